import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dispatcher } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IntegrityError, NetworkError } from '../../src/errors.js';
import { createDispatcher } from '../../src/fetch/dispatcher.js';
import { fetchFile, type FetchContext } from '../../src/fetch/fetch-file.js';
import { BlobStore } from '../../src/workspace/blob-store.js';
import { md5, randomBytesOf, sha256, startFaultServer, type FaultServer } from './fault-server.js';

let server: FaultServer;
let dir: string;
let store: BlobStore;
let dispatcher: Dispatcher;

beforeEach(async () => {
  server = await startFaultServer();
  dir = await mkdtemp(join(tmpdir(), 'airlock-fetch-'));
  store = new BlobStore(dir);
  dispatcher = createDispatcher({ bodyTimeoutMs: 300 });
});

afterEach(async () => {
  await dispatcher.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function ctx(extra: Partial<FetchContext> = {}): FetchContext {
  return { dispatcher, store, retry: { baseDelayMs: 5, attempts: 10 }, ...extra };
}

async function filesUnder(sub: string): Promise<string[]> {
  return readdir(join(dir, sub), { recursive: true }).catch(() => []);
}

const MiB = 1024 * 1024;

/**
 * Serves a 1 MiB body at `path` that stalls after `atBytes`, and stops the fetch there as a
 * killed run would (the abort): the partial stays in tmp/. Returns the body.
 */
async function stopMidBody(path: string, seed: number, atBytes: number): Promise<Buffer> {
  const body = randomBytesOf(MiB, seed);
  server.set(path, { body, faults: [{ kind: 'stall', afterBytes: atBytes, times: 1 }] });
  const killed = new AbortController();
  let seen = 0;
  const first = fetchFile(
    { url: server.url(path), expected: { sha256: sha256(body) } },
    ctx({
      signal: killed.signal,
      onProgress: (n) => {
        seen += n;
        if (seen >= atBytes) killed.abort();
      },
    }),
  );
  await expect(first).rejects.toThrow();
  return body;
}

describe('fetchFile', () => {
  it('stores a file under blobs/<ab>/<sha256> with the right sha256 and md5', async () => {
    const body = randomBytesOf(300_000);
    server.set('/pkg_1.0.tar.gz', { body });
    const got = await fetchFile(
      {
        url: server.url('/pkg_1.0.tar.gz'),
        expected: { sha256: sha256(body), md5: md5(body), size: body.length },
      },
      ctx(),
    );
    expect(got).toMatchObject({
      sha256: sha256(body),
      md5: md5(body),
      size: body.length,
      resumed: false,
      attempts: 1,
    });
    expect(got.bytesTransferred).toBe(body.length);
    const stored = join(dir, 'blobs', sha256(body).slice(0, 2), sha256(body));
    expect((await readFile(stored)).equals(body)).toBe(true);
    expect(await filesUnder('tmp')).toEqual([]);
  });

  it('completes through Range resumes when most requests are reset mid-body, sending well under 2x the file', async () => {
    const body = randomBytesOf(MiB, 2);
    server.set('/big.whl', { body, faults: [{ kind: 'reset', afterBytes: 150_000, times: 5 }] });
    const got = await fetchFile(
      { url: server.url('/big.whl'), expected: { sha256: sha256(body) } },
      ctx(),
    );
    expect(got.sha256).toBe(sha256(body));
    expect(got.resumed).toBe(true);
    expect(got.attempts).toBe(6);
    const requests = server.requestsFor('/big.whl');
    expect(
      requests
        .slice(1)
        .every((r) => r.status === 206 && /^bytes=\d+-$/.test(String(r.headers.range))),
    ).toBe(true);
    expect(server.bytesSentFor('/big.whl')).toBeLessThan(1.5 * body.length);
    expect(got.bytesTransferred).toBe(body.length);
  });

  it('resumes after a lying Content-Length (short body) instead of treating it as tampering', async () => {
    const body = randomBytesOf(600_000, 3);
    server.set('/short.tar.gz', {
      body,
      faults: [{ kind: 'short', missingBytes: 100_000, times: 1 }],
    });
    const got = await fetchFile(
      { url: server.url('/short.tar.gz'), expected: { sha256: sha256(body), size: body.length } },
      ctx(),
    );
    expect(got).toMatchObject({ sha256: sha256(body), resumed: true, attempts: 2 });
    expect(server.requestsFor('/short.tar.gz')[1]?.headers.range).toBe('bytes=500000-');
  });

  it('resumes a stalled transfer after the body timeout', async () => {
    const body = randomBytesOf(500_000, 4);
    server.set('/stall.zip', { body, faults: [{ kind: 'stall', afterBytes: 200_000, times: 1 }] });
    const got = await fetchFile(
      { url: server.url('/stall.zip'), expected: { sha256: sha256(body) } },
      ctx(),
    );
    expect(got).toMatchObject({ sha256: sha256(body), resumed: true, attempts: 2 });
    expect(server.requestsFor('/stall.zip')[1]?.status).toBe(206);
  });

  it('starts over cleanly when If-Range no longer matches because the file changed', async () => {
    const before = randomBytesOf(800_000, 5);
    const after = randomBytesOf(800_000, 6);
    server.set('/changing.tar.gz', {
      body: before,
      faults: [{ kind: 'reset', afterBytes: 300_000, times: 1 }],
    });
    const first = fetchFile(
      { url: server.url('/changing.tar.gz'), expected: {} },
      ctx({ retry: { attempts: 1 } }),
    );
    await expect(first).rejects.toBeInstanceOf(NetworkError);
    server.set('/changing.tar.gz', { body: after });
    const got = await fetchFile(
      { url: server.url('/changing.tar.gz'), expected: { sha256: sha256(after) } },
      ctx(),
    );
    expect(got).toMatchObject({ sha256: sha256(after), resumed: false, size: after.length });
    const second = server.requestsFor('/changing.tar.gz')[1];
    expect(second?.headers['if-range']).toBe(`"${sha256(before).slice(0, 16)}"`);
    expect(second?.status).toBe(200);
  });

  it('honours 503 with Retry-After and then succeeds', async () => {
    const body = randomBytesOf(10_000, 7);
    server.set('/busy.tar.gz', {
      body,
      faults: [{ kind: 'status', status: 503, retryAfter: '1', times: 1 }],
    });
    const delays: number[] = [];
    const got = await fetchFile(
      { url: server.url('/busy.tar.gz'), expected: { sha256: sha256(body) } },
      ctx({ onRetry: (e) => delays.push(e.delayMs) }),
    );
    expect(got.sha256).toBe(sha256(body));
    expect(server.requestsFor('/busy.tar.gz').map((r) => r.status)).toEqual([503, 200]);
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThanOrEqual(1000);
  });

  it('fails with IntegrityError (exit 4) when the bytes never match, storing nothing and leaving no partial', async () => {
    const body = randomBytesOf(400_000, 8);
    server.set('/bad.tar.gz', { body, faults: [{ kind: 'corrupt', times: Infinity }] });
    const error = await fetchFile(
      { url: server.url('/bad.tar.gz'), expected: { sha256: sha256(body) } },
      ctx(),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegrityError);
    expect((error as IntegrityError).exitCode).toBe(4);
    expect((error as IntegrityError).code).toBe('EHASH');
    expect((error as IntegrityError).message).toContain(server.url('/bad.tar.gz'));
    expect((error as IntegrityError).message).toContain(sha256(body));
    expect((error as IntegrityError).hint).toMatch(/proxy/);
    expect(server.requestsFor('/bad.tar.gz')).toHaveLength(3);
    expect(await filesUnder('blobs')).toEqual([]);
    expect(await filesUnder('tmp')).toEqual([]);
  });

  it('recovers when wrong bytes are followed by the right ones', async () => {
    const body = randomBytesOf(400_000, 9);
    server.set('/flaky.tar.gz', { body, faults: [{ kind: 'corrupt', times: 1 }] });
    const got = await fetchFile(
      { url: server.url('/flaky.tar.gz'), expected: { md5: md5(body) } },
      ctx(),
    );
    expect(got).toMatchObject({
      sha256: sha256(body),
      md5: md5(body),
      attempts: 2,
      resumed: false,
    });
    expect(server.requestsFor('/flaky.tar.gz')[1]?.headers.range).toBeUndefined();
  });

  it('does not retry a 404 and reports it as a NetworkError with code EHTTP404', async () => {
    const error = await fetchFile(
      { url: server.url('/missing.tar.gz'), expected: {} },
      ctx(),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ status: 404, code: 'EHTTP404', exitCode: 3 });
    expect(server.requestsFor('/missing.tar.gz')).toHaveLength(1);
  });

  it('resumes with a Range request the partial left by a run that was stopped mid-body', async () => {
    const body = await stopMidBody('/resume.tar.gz', 10, 400_000);
    const left = await filesUnder('tmp');
    expect(left.filter((f) => f.endsWith('.part'))).toHaveLength(1);
    expect(left.filter((f) => f.endsWith('.json'))).toHaveLength(1);

    const got = await fetchFile(
      { url: server.url('/resume.tar.gz'), expected: { sha256: sha256(body) } },
      ctx(),
    );
    expect(got).toMatchObject({ sha256: sha256(body), resumed: true });
    const resumedFrom = Number(
      /^bytes=(\d+)-$/.exec(String(server.requestsFor('/resume.tar.gz')[1]?.headers.range))?.[1],
    );
    expect(resumedFrom).toBeGreaterThan(0);
    expect(got.bytesTransferred).toBe(body.length - resumedFrom);
    expect(await filesUnder('tmp')).toEqual([]);
  });

  it('resumes a partial in a later process that finds it only by listing tmp/', async () => {
    const body = await stopMidBody('/later.tar.gz', 14, 500_000);

    // A new store knows nothing this process did: only its listing of tmp/ can find the partial.
    const got = await fetchFile(
      { url: server.url('/later.tar.gz'), expected: { sha256: sha256(body) } },
      ctx({ store: new BlobStore(dir) }),
    );
    expect(got).toMatchObject({ sha256: sha256(body), resumed: true });
    expect(server.requestsFor('/later.tar.gz')[1]?.headers.range).toMatch(/^bytes=\d+-$/);
    expect(got.bytesTransferred).toBeLessThan(body.length);
    expect(await filesUnder('tmp')).toEqual([]);
  });

  it('makes no request when the expected sha256 is already stored', async () => {
    const body = randomBytesOf(50_000, 11);
    server.set('/a.tar.gz', { body });
    await fetchFile({ url: server.url('/a.tar.gz'), expected: { sha256: sha256(body) } }, ctx());
    const again = await fetchFile(
      { url: server.url('/elsewhere/a.tar.gz'), expected: { sha256: sha256(body).toUpperCase() } },
      ctx(),
    );
    expect(again).toMatchObject({
      sha256: sha256(body),
      size: body.length,
      attempts: 0,
      bytesTransferred: 0,
    });
    expect(server.requests).toHaveLength(1);
  });

  it('follows a redirect to the file', async () => {
    const body = randomBytesOf(20_000, 12);
    server.set('/cdn/x.whl', { body });
    server.redirect('/pkg/x.whl', '/cdn/x.whl');
    const got = await fetchFile(
      { url: server.url('/pkg/x.whl'), expected: { sha256: sha256(body) } },
      ctx(),
    );
    expect(got.sha256).toBe(sha256(body));
  });

  it('rejects a file longer than the expected size as an integrity failure', async () => {
    const body = randomBytesOf(20_000, 13);
    server.set('/long.tar.gz', { body });
    const error = await fetchFile(
      { url: server.url('/long.tar.gz'), expected: { size: 10_000 } },
      ctx(),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegrityError);
    expect(await filesUnder('blobs')).toEqual([]);
  });

  it('serves two concurrent fetches of the same URL without mixing their partial file', async () => {
    const body = randomBytesOf(700_000, 14);
    server.set('/same.tar.gz', { body });
    const req = { url: server.url('/same.tar.gz'), expected: { sha256: sha256(body) } };
    const [a, b] = await Promise.all([fetchFile(req, ctx()), fetchFile(req, ctx())]);
    expect(a.sha256).toBe(sha256(body));
    expect(b.sha256).toBe(sha256(body));
    expect(server.requestsFor('/same.tar.gz')).toHaveLength(1);
  });
});
