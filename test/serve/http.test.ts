import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { formatCommonLog } from '../../src/serve/access-log.js';
import type { RunningServer } from '../../src/serve/server.js';
import { sha256 } from './fixture-repository.js';
import { createHarness, type Harness } from './serve-harness.js';

let h: Harness;
let server: RunningServer;
const FILE = '/cran/2026-11-01/src/contrib/airA_1.0.tar.gz';

beforeAll(async () => {
  h = await createHarness();
  server = await h.start();
});
afterAll(() => h.cleanup());

async function call(
  path: string,
  headers: Record<string, string> = {},
  method: 'GET' | 'HEAD' = 'GET',
) {
  const res = await request(`${server.url}${path}`, { method, headers });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body };
}

describe('HTTP semantics', () => {
  test('a file carries Content-Length, a strong sha256 ETag, Last-Modified and Accept-Ranges', async () => {
    const res = await call(FILE);
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(res.body.length));
    expect(res.headers.etag).toBe(`"${sha256(res.body)}"`);
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(Date.parse(String(res.headers['last-modified']))).not.toBeNaN();
  });

  test('If-None-Match with the ETag (also weak, also in a list) answers 304 without a body', async () => {
    const { headers } = await call(FILE);
    const etag = String(headers.etag);
    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const res = await call(FILE, { 'if-none-match': ifNoneMatch });
      expect(res.status).toBe(304);
      expect(res.body.length).toBe(0);
      expect(res.headers.etag).toBe(etag);
    }
    expect((await call(FILE, { 'if-none-match': '"other"' })).status).toBe(200);
    const since = String(headers['last-modified']);
    expect((await call(FILE, { 'if-modified-since': since })).status).toBe(304);
  });

  test('HEAD answers the headers of GET with no body', async () => {
    const get = await call(FILE);
    const head = await call(FILE, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
    expect(head.headers.etag).toBe(get.headers.etag);
  });

  test('Range requests get 206 with the exact bytes, unsatisfiable ones 416, a stale If-Range the whole file', async () => {
    const whole = (await call(FILE)).body;
    const size = whole.length;
    const cases: Array<[string, number, number]> = [
      ['bytes=0-9', 0, 9],
      ['bytes=10-', 10, size - 1],
      ['bytes=-5', size - 5, size - 1],
      [`bytes=5-${size + 100}`, 5, size - 1],
    ];
    for (const [range, start, end] of cases) {
      const res = await call(FILE, { range });
      expect(res.status).toBe(206);
      expect(res.headers['content-range']).toBe(`bytes ${start}-${end}/${size}`);
      expect(res.body.equals(whole.subarray(start, end + 1))).toBe(true);
    }
    const beyond = await call(FILE, { range: `bytes=${size}-` });
    expect(beyond.status).toBe(416);
    expect(beyond.headers['content-range']).toBe(`bytes */${size}`);
    const stale = await call(FILE, { range: 'bytes=0-9', 'if-range': '"not-the-etag"' });
    expect(stale.status).toBe(200);
    expect(stale.body.equals(whole)).toBe(true);
    const fresh = await call(FILE, { range: 'bytes=0-9', 'if-range': `"${sha256(whole)}"` });
    expect(fresh.status).toBe(206);
  });

  test('methods other than GET and HEAD are refused with 405', async () => {
    const res = await request(`${server.url}${FILE}`, { method: 'DELETE' });
    await res.body.dump();
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
  });

  test('every request produces an access-log entry, printable in common log format', async () => {
    await call('/cran/2026-11-01/src/contrib/PACKAGES', {
      'user-agent': 'R (4.3.2 x86_64-pc-linux-gnu x86_64 linux-gnu)',
    });
    // The entry is written when the server side of the exchange closes, just after the client has the body.
    const entry = await vi.waitFor(() => {
      const found = h.log.findLast((e) => e.path === '/cran/2026-11-01/src/contrib/PACKAGES');
      if (!found) throw new Error('no log entry yet');
      return found;
    });
    expect(entry).toMatchObject({
      method: 'GET',
      status: 200,
      userAgent: 'R (4.3.2 x86_64-pc-linux-gnu x86_64 linux-gnu)',
    });
    expect(entry.bytes).toBeGreaterThan(0);
    expect(formatCommonLog(entry)).toMatch(
      /^127\.0\.0\.1 - - \[\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET \/cran\/2026-11-01\/src\/contrib\/PACKAGES HTTP\/1\.1" 200 \d+$/,
    );
  });

  test('/healthz reports ok with the generation and snapshot count', async () => {
    const res = await call('/healthz');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toMatchObject({
      status: 'ok',
      generation: 1,
      snapshots: 6,
    });
  });

  test('the landing page lists sources and snapshots and the client lines for this host', async () => {
    const res = await call('/', { host: 'mirror.example:4242' });
    const html = res.body.toString();
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(html).toContain(
      'options(repos = c(CRAN = &quot;http://mirror.example:4242/cran/latest&quot;))',
    );
    expect(html).toContain(
      'options(repos = c(CRAN = &quot;http://mirror.example:4242/cran/__linux__/jammy/latest&quot;))',
    );
    expect(html).toContain('options(HTTPUserAgent = sprintf(');
    expect(html).toContain('index-url = http://mirror.example:4242/pypi/latest/simple');
    expect(html).toContain('trusted-host = mirror.example');
    expect(html).toContain('UV_INDEX_URL=http://mirror.example:4242/pypi/latest/simple');
    expect(html).toContain('2026-11-15 (latest)');
  });

  test("the landing page says which R minors and which Pythons and platforms each source's latest snapshot carries", async () => {
    const html = (await call('/')).body.toString();
    const rMinors = Object.values(h.catalog.sources).find(
      (s) => s.type === 'cran-binary',
    )!.rMinors!;
    expect(rMinors.length).toBeGreaterThan(0);
    expect(html).toContain(`Latest snapshot: binaries for R ${rMinors.join(', ')}`);
    expect(html).toContain('Latest snapshot: source packages only.');
    const wheels =
      /Latest snapshot: (\d+) wheels for Python ([^<]*) on ([^;<]*); (\d+) source distributions/.exec(
        html,
      );
    expect(wheels).not.toBeNull();
    expect(Number(wheels![1])).toBeGreaterThan(0);
    expect(wheels![2]).toMatch(/\b(cp3\d+|py3)\b/);
    expect(wheels![3]).toMatch(/manylinux|any/);
  });

  test('a path outside every source is a 404 listing what the server serves', async () => {
    const res = await call('/conda/latest/');
    expect(res.status).toBe(404);
    expect(res.body.toString()).toContain('/cran/{snapshot}/');
    expect(res.body.toString()).toContain('/pypi/{snapshot}/simple/');
  });
});
