/**
 * The size of a file from a HEAD request's Content-Length, for indexes that give none (CRAN's
 * PACKAGES): a dry run sizes the disk a run will need. Redirects are followed as GETs are;
 * transient failures are retried a little; an answer without a usable length is undefined.
 */
import type { Dispatcher } from 'undici';
import { header, sendRequest } from './request.js';
import { withRetries, type RetryOptions } from './retry.js';
import { HttpStatusError } from './http-error.js';

export interface HeadOptions {
  dispatcher: Dispatcher;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  retry?: RetryOptions;
}

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
  const res = await sendRequest(url, { ...opts, method: 'HEAD' });
  await res.body.dump();
  if (res.status < 200 || res.status > 299) throw new HttpStatusError(res.url, res.status);
  const length = Number(header(res.headers, 'content-length'));
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}
