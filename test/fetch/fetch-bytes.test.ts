import type { Dispatcher } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NetworkError } from '../../src/errors.js';
import { createDispatcher } from '../../src/fetch/dispatcher.js';
import { fetchBytes } from '../../src/fetch/fetch-bytes.js';
import { randomBytesOf, startFaultServer, type FaultServer } from './fault-server.js';

let server: FaultServer;
let dispatcher: Dispatcher;
const retry = { baseDelayMs: 5 };

beforeEach(async () => {
  server = await startFaultServer();
  dispatcher = createDispatcher({ bodyTimeoutMs: 300 });
});

afterEach(async () => {
  await dispatcher.close();
  await server.close();
});

describe('fetchBytes', () => {
  it('returns the body, status and headers of an index document', async () => {
    const body = Buffer.from('Package: foo\nVersion: 1.0\n');
    server.set('/cran/src/contrib/PACKAGES', { body });
    const got = await fetchBytes(server.url('/cran/src/contrib/PACKAGES'), { dispatcher, retry });
    expect(got.body.equals(body)).toBe(true);
    expect(got.status).toBe(200);
    expect(got.headers['content-length']).toBe(String(body.length));
    expect(got.url).toBe(server.url('/cran/src/contrib/PACKAGES'));
  });

  it('follows a relative redirect and reports the final URL', async () => {
    server.set('/pypi/simple/requests/', { body: Buffer.from('<html></html>') });
    server.redirect('/pypi/simple/Requests/', '../requests/');
    const got = await fetchBytes(server.url('/pypi/simple/Requests/'), { dispatcher, retry });
    expect(got.url).toBe(server.url('/pypi/simple/requests/'));
    expect(got.body.toString()).toBe('<html></html>');
  });

  it('fails a 404 at once with code EHTTP404 so callers can fall back', async () => {
    const error = await fetchBytes(server.url('/PACKAGES.gz'), { dispatcher, retry }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ code: 'EHTTP404', status: 404, exitCode: 3 });
    expect((error as Error).message).toContain(server.url('/PACKAGES.gz'));
    expect(server.requests).toHaveLength(1);
  });

  it('retries a reset body and a 502 until the document arrives whole', async () => {
    const body = randomBytesOf(200_000, 21);
    server.set('/big/PACKAGES', {
      body,
      faults: [
        { kind: 'status', status: 502, times: 1 },
        { kind: 'reset', afterBytes: 50_000, times: 1 },
      ],
    });
    const got = await fetchBytes(server.url('/big/PACKAGES'), { dispatcher, retry });
    expect(got.body.equals(body)).toBe(true);
    expect(server.requests.map((r) => r.status)).toEqual([502, 200, 200]);
  });

  it('refuses a body over maxBytes', async () => {
    server.set('/huge', { body: randomBytesOf(10_000, 22) });
    await expect(
      fetchBytes(server.url('/huge'), { dispatcher, retry, maxBytes: 1000 }),
    ).rejects.toMatchObject({
      code: 'ETOOLARGE',
    });
  });

  it('never shows credentials from the URL in its errors', async () => {
    const url = server.url('/x').replace('http://', 'http://alice:s3cret@');
    const error = (await fetchBytes(url, { dispatcher, retry }).catch(
      (e: unknown) => e,
    )) as NetworkError;
    expect(error.message).not.toContain('s3cret');
    expect(error.url).not.toContain('s3cret');
  });
});
