import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { blobKey } from '../../src/repo/layout.js';
import type { RunningServer } from '../../src/serve/server.js';
import { sha256 } from './fixture-repository.js';
import { createHarness, type Harness } from './serve-harness.js';

const run = promisify(execFile);
const PIP_ACCEPT =
  'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01';
let h: Harness;
let server: RunningServer;

beforeAll(async () => {
  h = await createHarness();
  server = await h.start();
});
afterAll(() => h.cleanup());

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await request(`${server.url}${path}`, { headers });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body, text: body.toString() };
}

async function pip(...args: string[]): Promise<string> {
  const env = {
    ...process.env,
    PIP_NO_CACHE_DIR: '1',
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PIP_CONFIG_FILE: '/dev/null',
    PIP_NO_INPUT: '1',
  };
  const { stdout, stderr } = await run('python3', ['-m', 'pip', ...args], { env, timeout: 90_000 });
  return stdout + stderr;
}

function fixtureSha(filename: string): string {
  const file = h.catalog.sources.pypi.snapshots['2026-11-01']!.files.find(
    (f) => f.filename === filename,
  );
  if (!file) throw new Error(`no fixture file ${filename}`);
  return file.sha256;
}

describe('PyPI simple API', () => {
  test('pip download resolves a project with its dependencies from a dated snapshot, checking hashes', async () => {
    const dest = join(h.dir, 'download');
    await pip(
      'download',
      '--index-url',
      `${server.url}/pypi/2026-11-01/simple`,
      '-d',
      dest,
      '--only-binary',
      ':all:',
      'alpha',
    );
    const files = (await readdir(dest)).sort();
    expect(files).toEqual([
      'alpha-1.0-py3-none-any.whl',
      'beta-1.0-py3-none-any.whl',
      'gamma-1.0-py3-none-any.whl',
    ]);
  }, 120_000);

  test('pip install --target installs from latest', async () => {
    const target = join(h.dir, 'target');
    await pip(
      'install',
      '--target',
      target,
      '--index-url',
      `${server.url}/pypi/latest/simple`,
      'alpha',
    );
    const installed = await readdir(target);
    expect(installed).toEqual(
      expect.arrayContaining(['alpha', 'beta', 'gamma', 'beta-2.0.dist-info']),
    );
  }, 120_000);

  test('project pages are PEP 503 HTML by default with hashes, requires-python, yanked and metadata attributes', async () => {
    const alpha = await get('/pypi/2026-11-01/simple/alpha/');
    expect(alpha.status).toBe(200);
    expect(alpha.headers['content-type']).toBe('text/html; charset=utf-8');
    const whl = 'alpha-1.0-py3-none-any.whl';
    const metadata = fixtureSha(`${whl}.metadata`);
    expect(alpha.text).toContain(
      `<a href="${whl}#sha256=${fixtureSha(whl)}" data-requires-python="&gt;=3.8" data-dist-info-metadata="sha256=${metadata}" data-core-metadata="sha256=${metadata}">${whl}</a>`,
    );
    expect(alpha.text).toContain(
      `<a href="alpha-1.0.tar.gz#sha256=${fixtureSha('alpha-1.0.tar.gz')}" data-requires-python="&gt;=3.8">`,
    );
    const yanky = await get('/pypi/2026-11-01/simple/yanky/');
    expect(yanky.text).toContain('data-yanked="broken build, use 1.0"');
    const served = await get(`/pypi/2026-11-01/simple/alpha/${whl}.metadata`);
    expect(sha256(served.body)).toBe(metadata);
  });

  test('PEP 691 JSON is chosen by Accept with q-values, and nothing acceptable is 406', async () => {
    const json = await get('/pypi/2026-11-01/simple/alpha/', { accept: PIP_ACCEPT });
    expect(json.headers['content-type']).toBe('application/vnd.pypi.simple.v1+json');
    expect(json.headers.vary).toContain('Accept');
    const page = JSON.parse(json.text);
    const whl = page.files.find(
      (f: { filename: string }) => f.filename === 'alpha-1.0-py3-none-any.whl',
    );
    expect(whl).toMatchObject({
      url: 'alpha-1.0-py3-none-any.whl',
      hashes: { sha256: fixtureSha('alpha-1.0-py3-none-any.whl') },
      'requires-python': '>=3.8',
      yanked: false,
      'core-metadata': { sha256: fixtureSha('alpha-1.0-py3-none-any.whl.metadata') },
    });
    const html = await get('/pypi/2026-11-01/simple/alpha/', {
      accept: 'application/vnd.pypi.simple.v1+json;q=0.2, text/html',
    });
    expect(html.headers['content-type']).toBe('text/html; charset=utf-8');
    const v1html = await get('/pypi/2026-11-01/simple/alpha/', {
      accept: 'application/vnd.pypi.simple.v1+html',
    });
    expect(v1html.headers['content-type']).toBe(
      'application/vnd.pypi.simple.v1+html; charset=utf-8',
    );
    expect(
      (await get('/pypi/2026-11-01/simple/alpha/', { accept: 'application/xml' })).status,
    ).toBe(406);
    expect(json.headers.etag).not.toBe(html.headers.etag);
  });

  test('the project list names every project, as HTML and as JSON', async () => {
    const html = await get('/pypi/2026-11-01/simple/');
    expect(html.text).toContain('<a href="alpha/">alpha</a>');
    expect(html.text).toContain('<a href="dotted-name-pkg/">dotted-name-pkg</a>');
    const json = JSON.parse((await get('/pypi/2026-11-15/simple/', { accept: PIP_ACCEPT })).text);
    expect(json.projects.map((p: { name: string }) => p.name)).toContain('zeta');
  });

  test('non-normalized names and the bare index path redirect to the normalized URL', async () => {
    const res = await get('/pypi/latest/simple/Dotted.Name_Pkg/');
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe('/pypi/latest/simple/dotted-name-pkg/');
    const bare = await get('/pypi/latest/simple');
    expect(bare.status).toBe(301);
    expect(bare.headers.location).toBe('/pypi/latest/simple/');
    const noSlash = await get('/pypi/latest/simple/alpha');
    expect(noSlash.headers.location).toBe('/pypi/latest/simple/alpha/');
  });

  test('index pages are gzip-compressed when the client asks, files never are', async () => {
    const page = await get('/pypi/2026-11-01/simple/alpha/', { 'accept-encoding': 'gzip' });
    expect(page.headers['content-encoding']).toBe('gzip');
    expect(page.headers.vary).toContain('Accept-Encoding');
    const file = await get('/pypi/2026-11-01/simple/alpha/alpha-1.0-py3-none-any.whl', {
      'accept-encoding': 'gzip',
    });
    expect(file.headers['content-encoding']).toBeUndefined();
    expect(sha256(file.body)).toBe(fixtureSha('alpha-1.0-py3-none-any.whl'));
  });
});

describe('hash checking by pip', () => {
  let damaged: Harness;
  afterAll(() => damaged?.cleanup());

  test('pip refuses a file whose bytes differ from the #sha256 the page announces', async () => {
    damaged = await createHarness({ snapshots: ['2026-11-01'] });
    const gamma = damaged.catalog.sources.pypi.snapshots['2026-11-01']!.files.find(
      (f) => f.filename === 'gamma-1.0-py3-none-any.whl',
    )!;
    // Same length, different bytes: only the hash can tell.
    const key = blobKey(gamma.sha256);
    const bytes = (await damaged.storage.readBuffer(key))!;
    const last = bytes.length - 1;
    bytes.writeUInt8(bytes.readUInt8(last) ^ 0xff, last);
    await damaged.storage.write(key, bytes);
    const mirror = await damaged.start();
    const failure = pip(
      'download',
      '--index-url',
      `${mirror.url}/pypi/2026-11-01/simple`,
      '-d',
      join(damaged.dir, 'dl'),
      '--no-deps',
      'gamma',
    );
    await expect(failure).rejects.toThrow(/DO NOT MATCH THE HASHES/);
  }, 120_000);
});
