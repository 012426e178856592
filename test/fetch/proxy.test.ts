import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dispatcher } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NetworkError, UsageError } from '../../src/errors.js';
import { createDispatcher } from '../../src/fetch/dispatcher.js';
import { fetchBytes } from '../../src/fetch/fetch-bytes.js';
import { fetchFile } from '../../src/fetch/fetch-file.js';
import { BlobStore } from '../../src/workspace/blob-store.js';
import { randomBytesOf, sha256, startFaultServer, type FaultServer } from './fault-server.js';
import { haveTinyproxy, startTinyproxy, type Tinyproxy } from './tinyproxy.js';

const retry = { baseDelayMs: 5, attempts: 2 };

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('createDispatcher validation', () => {
  it('rejects a malformed --proxy with a UsageError that hides the password', () => {
    for (const bad of [
      'alice:s3cret@proxy:3128',
      'ftp://alice:s3cret@proxy:21',
      'http://alice@proxy:3128',
    ]) {
      const error = thrown(() => createDispatcher({ proxy: bad }));
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).message).toContain('--proxy');
      expect((error as UsageError).message).not.toContain('s3cret');
      expect((error as UsageError).hint).toMatch(/http:\/\//);
    }
  });

  it('names the environment variable a malformed proxy came from', () => {
    const saved = process.env.HTTPS_PROXY;
    process.env.HTTPS_PROXY = 'not a url';
    try {
      const error = thrown(() => createDispatcher());
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).message).toContain('HTTPS_PROXY');
    } finally {
      if (saved === undefined) delete process.env.HTTPS_PROXY;
      else process.env.HTTPS_PROXY = saved;
    }
  });

  it('rejects a --ca-file that is missing or holds no PEM certificate', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-ca-'));
    try {
      await writeFile(join(dir, 'ca.txt'), 'hello');
      expect(thrown(() => createDispatcher({ caFile: join(dir, 'missing.pem') }))).toBeInstanceOf(
        UsageError,
      );
      expect(thrown(() => createDispatcher({ caFile: join(dir, 'ca.txt') }))).toBeInstanceOf(
        UsageError,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!haveTinyproxy)('through a real proxy (tinyproxy)', () => {
  let server: FaultServer;
  let proxy: Tinyproxy;
  let authProxy: Tinyproxy;
  let dir: string;
  const dispatchers: Dispatcher[] = [];
  const savedNoProxy = { NO_PROXY: process.env.NO_PROXY, no_proxy: process.env.no_proxy };

  function dispatcherFor(proxyUrl: string): Dispatcher {
    const d = createDispatcher({ proxy: proxyUrl });
    dispatchers.push(d);
    return d;
  }

  beforeAll(async () => {
    server = await startFaultServer();
    proxy = await startTinyproxy();
    authProxy = await startTinyproxy({ basicAuth: ['alice', 's3cret'] });
    dir = await mkdtemp(join(tmpdir(), 'airlock-proxy-'));
  });

  afterEach(async () => {
    for (const [name, value] of Object.entries(savedNoProxy)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await Promise.all(dispatchers.splice(0).map((d) => d.close()));
  });

  afterAll(async () => {
    await Promise.all([server?.close(), proxy?.stop(), authProxy?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('fetches files and documents through the proxy, which logs every request', async () => {
    delete process.env.NO_PROXY;
    delete process.env.no_proxy;
    const body = randomBytesOf(300_000, 41);
    server.set('/via-proxy/pkg_1.0.tar.gz', { body });
    server.set('/via-proxy/PACKAGES', { body: Buffer.from('Package: pkg\n') });
    const dispatcher = dispatcherFor(proxy.url);
    const got = await fetchFile(
      { url: server.url('/via-proxy/pkg_1.0.tar.gz'), expected: { sha256: sha256(body) } },
      { dispatcher, store: new BlobStore(dir), retry },
    );
    expect(got.sha256).toBe(sha256(body));
    const index = await fetchBytes(server.url('/via-proxy/PACKAGES'), { dispatcher, retry });
    expect(index.body.toString()).toBe('Package: pkg\n');
    const log = await proxy.log();
    expect(log).toContain(`GET ${server.url('/via-proxy/pkg_1.0.tar.gz')}`);
    expect(log).toContain(`GET ${server.url('/via-proxy/PACKAGES')}`);
  });

  it('authenticates with credentials from the proxy URL', async () => {
    server.set('/auth/PACKAGES', { body: Buffer.from('ok') });
    const withCredentials = authProxy.url.replace('http://', 'http://alice:s3cret@');
    const got = await fetchBytes(server.url('/auth/PACKAGES'), {
      dispatcher: dispatcherFor(withCredentials),
      retry,
    });
    expect(got.body.toString()).toBe('ok');
  });

  it('fails clearly, without retrying forever, when the proxy wants credentials and has none', async () => {
    server.set('/auth/missing', { body: Buffer.from('ok') });
    const error = await fetchBytes(server.url('/auth/missing'), {
      dispatcher: dispatcherFor(authProxy.url),
      retry,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ status: 407, code: 'EPROXYAUTH', exitCode: 3 });
    expect((error as NetworkError).hint).toContain('user:password@');
  });

  it('uses HTTP_PROXY from the environment when no proxy is given', async () => {
    const saved = process.env.HTTP_PROXY;
    process.env.HTTP_PROXY = proxy.url;
    try {
      server.set('/env/PACKAGES', { body: Buffer.from('env') });
      const dispatcher = createDispatcher();
      dispatchers.push(dispatcher);
      const got = await fetchBytes(server.url('/env/PACKAGES'), { dispatcher, retry });
      expect(got.body.toString()).toBe('env');
      expect(await proxy.log()).toContain(`GET ${server.url('/env/PACKAGES')}`);
    } finally {
      if (saved === undefined) delete process.env.HTTP_PROXY;
      else process.env.HTTP_PROXY = saved;
    }
  });

  it('goes direct to hosts listed in NO_PROXY even with an explicit proxy', async () => {
    process.env.NO_PROXY = 'example.invalid,127.0.0.1';
    server.set('/direct/PACKAGES', { body: Buffer.from('direct') });
    const got = await fetchBytes(server.url('/direct/PACKAGES'), {
      dispatcher: dispatcherFor(proxy.url),
      retry,
    });
    expect(got.body.toString()).toBe('direct');
    expect(server.requestsFor('/direct/PACKAGES')).toHaveLength(1);
    expect(await proxy.log()).not.toContain('/direct/PACKAGES');
  });
});

if (!haveTinyproxy) {
  describe('through a real proxy', () => {
    it.skip('needs tinyproxy: apt-get install tinyproxy', () => undefined);
  });
}
