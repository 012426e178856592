/**
 * A proxy's failures are named as the proxy's, and retries are reported as they happen:
 * a real tinyproxy with a deny rule answers 403 itself (not "the upstream refused access"),
 * a dead proxy port is "the proxy ... refused the connection", and `airlock download` prints a
 * line per retry on stderr at once instead of half a minute of silence.
 */
import { createServer, type AddressInfo } from 'node:net';
import type { Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkError } from '../../src/errors.js';
import { createDispatcher } from '../../src/fetch/dispatcher.js';
import { fetchBytes } from '../../src/fetch/fetch-bytes.js';
import { collect, startAirlock } from '../helpers/cli.js';
import { withUpstream, type TestUpstream } from '../helpers/upstream.js';
import { startFaultServer, type FaultServer } from './fault-server.js';
import { haveTinyproxy, startTinyproxy, type Tinyproxy } from './tinyproxy.js';
import { configDir, PYPI } from '../select-download/plan-harness.js';
import { join } from 'node:path';

const retry = { baseDelayMs: 5, attempts: 3 };

/** A loopback port nothing listens on. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.skipIf(!haveTinyproxy)('proxy failures are the proxy’s', () => {
  let server: FaultServer;
  let denying: Tinyproxy;
  const dispatchers: Dispatcher[] = [];
  const dispatcherFor = (proxy: string) => {
    const d = createDispatcher({ proxy });
    dispatchers.push(d);
    return d;
  };
  const saved = { NO_PROXY: process.env.NO_PROXY, no_proxy: process.env.no_proxy };

  beforeAll(async () => {
    delete process.env.NO_PROXY;
    delete process.env.no_proxy;
    server = await startFaultServer();
    denying = await startTinyproxy({ denyAll: true });
  });
  afterAll(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await Promise.all(dispatchers.map((d) => d.close()));
    await Promise.all([server?.close(), denying?.stop()]);
  });

  it('a 403 written by the proxy names the proxy, not the upstream', async () => {
    server.set('/denied/PACKAGES', { body: Buffer.from('never') });
    const error = await fetchBytes(server.url('/denied/PACKAGES'), {
      dispatcher: dispatcherFor(denying.url),
      retry,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ status: 403, exitCode: 3 });
    expect((error as NetworkError).message).toBe(
      `the proxy ${denying.url} answered HTTP 403 for ${server.url('/denied/PACKAGES')}`,
    );
    expect((error as NetworkError).hint).toMatch(/the proxy's rules refuse this request/);
    expect((error as NetworkError).hint).not.toMatch(/upstream refused/);
    // The upstream never saw it.
    expect(server.requestsFor('/denied/PACKAGES')).toHaveLength(0);
  });

  it('a dead proxy port is "the proxy refused the connection", and each retry is reported', async () => {
    const proxy = `http://127.0.0.1:${await deadPort()}`;
    const retries: Array<{ attempt: number; of: number; reason: string; url: string }> = [];
    const error = await fetchBytes(server.url('/any/PACKAGES'), {
      dispatcher: dispatcherFor(proxy),
      retry,
      onRetry: (e) => retries.push({ attempt: e.attempt, of: e.of, reason: e.reason, url: e.url }),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EPROXY', exitCode: 3 });
    expect((error as NetworkError).message).toBe(
      `the proxy ${proxy} refused the connection (nothing listens there), fetching ${server.url('/any/PACKAGES')}`,
    );
    const reason = `the proxy ${proxy} refused the connection (nothing listens there)`;
    const url = server.url('/any/PACKAGES');
    expect(retries).toEqual([
      { attempt: 1, of: 3, reason, url },
      { attempt: 2, of: 3, reason, url },
    ]);
  });
});

describe('airlock download says what it retries', () => {
  let t: TestUpstream;
  beforeAll(async () => {
    t = await withUpstream({ scale: { smallFiles: 1, smallMin: 100, smallMax: 200 } });
  }, 120_000);
  afterAll(async () => t?.close());

  async function firstRetryLine(dir: string, extra: string[]): Promise<string> {
    const child = startAirlock([
      'download',
      '--config',
      join(dir, 'mirror.yaml'),
      '--workspace',
      join(dir, 'ws'),
      '--dry-run',
      ...extra,
    ]);
    const started = Date.now();
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const done = collect(child);
    try {
      while (!/retrying .*\n/.test(stderr) && Date.now() - started < 10_000) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      child.kill('SIGTERM');
      await done;
    }
    // Printed within the first seconds, not after the retries are spent (about 30 s).
    expect(Date.now() - started).toBeLessThan(10_000);
    return /retrying .*/.exec(stderr)?.[0] ?? stderr;
  }

  it('a refused upstream: a line per retry on stderr, at once', async () => {
    const port = await deadPort();
    const dir = configDir(t, '', [PYPI('    packages: [alpha]\n')]);
    const yaml = join(dir, 'mirror.yaml');
    const { readFileSync, writeFileSync } = await import('node:fs');
    writeFileSync(
      yaml,
      readFileSync(yaml, 'utf8').replace(t.upstream.url, `http://127.0.0.1:${port}`),
    );
    const line = await firstRetryLine(dir, []);
    expect(line).toMatch(
      new RegExp(
        `^retrying http://127\\.0\\.0\\.1:${port}/pypi/2026-11-01/simple/alpha/ \\(connection refused\\): attempt 1 of 9 failed, next in \\d+\\.\\d s$`,
      ),
    );
  });

  it.skipIf(!haveTinyproxy)('a dead proxy: the line names the proxy', async () => {
    const proxy = `http://127.0.0.1:${await deadPort()}`;
    const dir = configDir(t, '', [PYPI('    packages: [alpha]\n')]);
    const line = await firstRetryLine(dir, ['--proxy', proxy]);
    expect(line).toContain(`(the proxy ${proxy} refused the connection (nothing listens there))`);
  });
});
