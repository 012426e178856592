/**
 * `airlock serve` under load and abuse stays up, answers what it can and closes what it must:
 * oversized headers (431) and URLs (414), clients that never finish a request (closed after
 * headersTimeout), encoded traversal attempts (400/404, never a byte from outside a snapshot),
 * 2,000 concurrent range requests (all answered, in bounded time), and connections past
 * maxConnections (closed at once; the server answers afterwards).
 */
import { connect, type Socket } from 'node:net';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/serve/server.js';
import { createHarness, type Harness } from './serve-harness.js';

let h: Harness;
let server: RunningServer;
let port: number;
const FILE = '/cran/2026-11-01/src/contrib/airA_1.0.tar.gz';

beforeAll(async () => {
  h = await createHarness();
  server = await h.start({ limits: { headersTimeoutMs: 1000, requestTimeoutMs: 2000 } });
  port = server.port;
});
afterAll(() => h.cleanup());

/** Sends raw bytes (no client library to normalise the path) and collects the answer. */
function raw(
  bytes: string,
  { end = false, port: p = port } = {},
): Promise<{ text: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket: Socket = connect(p, '127.0.0.1', () => {
      socket.write(bytes);
      if (end) socket.end();
    });
    let text = '';
    socket.setEncoding('latin1').on('data', (d: string) => (text += d));
    socket.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNRESET' ? resolve({ text, ms: performance.now() - started }) : reject(err),
    );
    socket.on('close', () => resolve({ text, ms: performance.now() - started }));
  });
}

const get = (path: string, headers = '') =>
  raw(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n${headers}Connection: close\r\n\r\n`);

describe('limits', () => {
  it('answers 431 to request headers over 16 KiB and 414 to a URL over 8 KiB', async () => {
    const big = await get(FILE, `X-Filler: ${'a'.repeat(20_000)}\r\n`);
    expect(big.text).toMatch(/^HTTP\/1\.1 431 /);
    const long = await get(`/cran/latest/src/contrib/${'a'.repeat(9000)}`);
    expect(long.text).toMatch(/^HTTP\/1\.1 414 /);
    // Just under the URL cap is an ordinary request.
    expect((await get(`/cran/latest/src/contrib/${'a'.repeat(8000)}`)).text).toMatch(
      /^HTTP\/1\.1 404 /,
    );
  });

  it('closes a connection whose request head never completes, and one that sends nothing', async () => {
    const slow = await raw('GET /cran/latest/src/contrib/PACKAGES HTTP/1.1\r\nHost: x\r\n');
    expect(slow.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(slow.ms).toBeGreaterThan(900);
    expect(slow.ms).toBeLessThan(5000);
    const silent = await raw('');
    expect(silent.ms).toBeLessThan(5000);
    expect((await get('/healthz')).text).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('never serves a byte from outside a snapshot, however the path is encoded', async () => {
    const published = (await h.storage.readBuffer('published.json'))!.toString();
    const attempts = [
      '/cran/2026-11-01/src/contrib/../../../../published.json',
      '/cran/2026-11-01/src/contrib/%2e%2e/%2e%2e/%2e%2e/%2e%2e/published.json',
      '/cran/2026-11-01/src/contrib/%2E%2E%2F%2E%2E%2F%2E%2E%2Fpublished.json',
      '/cran/%2e%2e/published.json',
      '/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      '/cran/latest/src/contrib/%252e%252e/%252e%252e/published.json',
      '/cran/latest/src/contrib/..\\..\\..\\published.json',
      '/cran/latest/src/contrib/%5c..%5c..%5cpublished.json',
      '/cran/latest/src/contrib/airA_1.0.tar.gz%00.html',
      '/cran/latest/./src/contrib/PACKAGES',
      '/cran/latest/src/contrib/%c0%ae%c0%ae/published.json',
      '/published.json',
      '/snapshots/',
      '/blobs/sha256/',
      '//etc/passwd',
    ];
    for (const path of attempts) {
      const { text } = await get(path);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
      expect([400, 404], `${path} answered ${status}`).toContain(status);
      expect(text).not.toContain(published.slice(0, 40));
      expect(text).not.toContain('root:');
    }
  });

  it('answers 2,000 concurrent range requests, each with its bytes, in bounded time', async () => {
    const whole = Buffer.from(await (await request(`${server.url}${FILE}`)).body.arrayBuffer());
    const agent = new Agent({ connections: 2000, pipelining: 1, headersTimeout: 30_000 });
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    try {
      const answers = await Promise.all(
        Array.from({ length: 2000 }, async (_, i) => {
          const start = i % (whole.length - 10);
          const res = await request(`${server.url}${FILE}`, {
            dispatcher: agent,
            headers: { range: `bytes=${start}-${start + 9}` },
          });
          const body = Buffer.from(await res.body.arrayBuffer());
          return res.statusCode === 206 && body.equals(whole.subarray(start, start + 10));
        }),
      );
      expect(answers.filter((ok) => !ok)).toEqual([]);
      const seconds = (performance.now() - started) / 1000;
      expect(seconds).toBeLessThan(60);
      // Client and server share this process: 2,000 sockets on both ends stay well under this.
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(400 * 1024 * 1024);
    } finally {
      await agent.close();
    }
    expect((await get('/healthz')).text).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('closes connections past maxConnections at once and serves again afterwards', async () => {
    const small = await h.start({ limits: { maxConnections: 20 } });
    const sockets: Socket[] = [];
    const closedEarly: boolean[] = [];
    await Promise.all(
      Array.from(
        { length: 40 },
        (_, i) =>
          new Promise<void>((resolve) => {
            const socket = connect(small.port, '127.0.0.1', () => resolve());
            socket.on('error', () => {});
            socket.on('close', () => (closedEarly[i] = true));
            sockets.push(socket);
          }),
      ),
    );
    await expect.poll(() => closedEarly.filter(Boolean).length, { timeout: 5000 }).toBe(20);
    // ... and no more than that: the 20 accepted ones stay open.
    await new Promise((r) => setTimeout(r, 300));
    expect(closedEarly.filter(Boolean).length).toBe(20);
    for (const socket of sockets) socket.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const res = await request(`${small.url}/healthz`);
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  });
});
