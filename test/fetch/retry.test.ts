import { describe, expect, it } from 'vitest';
import { HashMismatchError, HttpStatusError } from '../../src/fetch/http-error.js';
import { classify, parseRetryAfter, withRetries } from '../../src/fetch/retry.js';

const fast = { baseDelayMs: 1 };

describe('retry policy', () => {
  it('retries 408, 429 and 5xx but never 401, 403, 404 or 410', () => {
    for (const status of [408, 429, 500, 502, 503, 504]) expect(classify(status)).toBe('transient');
    for (const status of [400, 401, 403, 404, 410]) expect(classify(status)).toBe('fatal');
    expect(classify(new HttpStatusError('http://x/', 503))).toBe('transient');
    expect(classify(new HttpStatusError('http://x/', 404))).toBe('fatal');
  });

  it('retries connection errors from the allow-list, including wrapped causes', () => {
    for (const code of [
      'ECONNRESET',
      'ECONNREFUSED',
      'EPIPE',
      'ETIMEDOUT',
      'EAI_AGAIN',
      'UND_ERR_SOCKET',
      'UND_ERR_CONNECT_TIMEOUT',
      'UND_ERR_HEADERS_TIMEOUT',
      'UND_ERR_BODY_TIMEOUT',
      'ERR_STREAM_PREMATURE_CLOSE',
    ]) {
      expect(classify(Object.assign(new Error(code), { code }))).toBe('transient');
    }
    const wrapped = new Error('fetch failed', {
      cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }),
    });
    expect(classify(wrapped)).toBe('transient');
    expect(classify(Object.assign(new Error('bad host'), { code: 'ENOTFOUND' }))).toBe('fatal');
    expect(classify(new HashMismatchError('http://x/', 'sha256', 'a', 'b'))).toBe('integrity');
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('7')).toBe(7000);
    const now = Date.parse('Tue, 01 Sep 2026 00:00:00 GMT');
    expect(parseRetryAfter('Tue, 01 Sep 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('garbage')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  it('stops at the first fatal error', async () => {
    let calls = 0;
    const run = withRetries(async () => {
      calls++;
      throw new HttpStatusError('http://x/', 403);
    }, fast);
    await expect(run).rejects.toMatchObject({ status: 403 });
    expect(calls).toBe(1);
  });

  it('gives transient failures `attempts` tries and integrity failures a smaller budget', async () => {
    let calls = 0;
    await expect(
      withRetries(
        async () => {
          calls++;
          throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
        },
        { ...fast, attempts: 4 },
      ),
    ).rejects.toThrow('reset');
    expect(calls).toBe(4);

    calls = 0;
    await expect(
      withRetries(async () => {
        calls++;
        throw new HashMismatchError('http://x/', 'sha256', 'a', 'b');
      }, fast),
    ).rejects.toBeInstanceOf(HashMismatchError);
    expect(calls).toBe(3);
  });

  it('starts the budget again after an attempt that made progress, but not after one that did not', async () => {
    const reset = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    // Every attempt gets 100 bytes further before the connection drops: a flaky link.
    let position = 0;
    let calls = 0;
    const flaky = await withRetries(
      async () => {
        calls++;
        if (position >= 1000) return 'done';
        position += 100;
        throw reset();
      },
      { attempts: 3, baseDelayMs: 1, progress: () => position },
    );
    expect(flaky).toBe('done');
    expect(calls).toBe(11);
    // A server that cuts at the same point every time (or ignores Range): no progress, so the
    // budget runs out as usual.
    let stuckCalls = 0;
    await expect(
      withRetries(
        async () => {
          stuckCalls++;
          throw reset();
        },
        { attempts: 3, baseDelayMs: 1, progress: () => 300 },
      ),
    ).rejects.toThrow('ECONNRESET');
    expect(stuckCalls).toBe(3);
  });

  it('waits at least Retry-After and reports each retry', async () => {
    const delays: number[] = [];
    let calls = 0;
    const value = await withRetries(
      async () => {
        if (++calls === 1) throw new HttpStatusError('http://x/', 429, 20);
        return 'ok';
      },
      { ...fast, onRetry: (e) => delays.push(e.delayMs) },
    );
    expect(value).toBe('ok');
    expect(delays).toEqual([20]);
  });

  it('stops retrying once the signal aborts', async () => {
    const controller = new AbortController();
    let calls = 0;
    const run = withRetries(
      async () => {
        calls++;
        controller.abort(new Error('interrupted'));
        throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
      },
      { ...fast, signal: controller.signal },
    );
    await expect(run).rejects.toThrow('interrupted');
    expect(calls).toBe(1);
  });
});
