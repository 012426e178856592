/**
 * The size of a file from a HEAD request's Content-Length, for indexes that give none (CRAN's
 * PACKAGES): a dry run sizes the disk a run will need. Redirects are followed as GETs are;
 * transient failures are retried a little; an answer without a usable length is undefined.
 */
import type { Dispatcher } from 'undici';
import { header } from './request.js';
import { withRetries, type RetryOptions } from './retry.js';
import { HttpStatusError } from './http-error.js';

export interface HeadOptions {
  dispatcher: Dispatcher;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  retry?: RetryOptions;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export async function headSize(url: string, opts: HeadOptions): Promise<number | undefined> {
  try {
    return await withRetries(() => headOnce(url, opts), {
      attempts: 3,
      ...opts.retry,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (error) {
    if (opts.signal?.aborted) throw error;
    return undefined; // a size we cannot learn stays unknown; the plan counts those
  }
}

async function headOnce(url: string, opts: HeadOptions): Promise<number | undefined> {
  let current = new URL(url);
  for (let hop = 0; hop <= 5; hop++) {
    const res = await opts.dispatcher.request({
      origin: current.origin,
      path: current.pathname + current.search,
      method: 'HEAD',
      headers: opts.headers ?? {},
      signal: opts.signal ?? null,
    });
    await res.body.dump();
    const location = header(res.headers, 'location');
    if (REDIRECTS.has(res.statusCode) && location !== undefined) {
      current = new URL(location, current);
      continue;
    }
    if (res.statusCode < 200 || res.statusCode > 299) {
      throw new HttpStatusError(current.href, res.statusCode);
    }
    const length = Number(header(res.headers, 'content-length'));
    return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
  }
  return undefined;
}
