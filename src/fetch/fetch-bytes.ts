/**
 * Small documents held in memory: index files (PACKAGES.gz, PyPI project pages). Package
 * files go through fetchFile, which streams to disk and resumes.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { NetworkError } from '../errors.js';
import { HttpStatusError, networkErrorFrom, retryReason, ShortBodyError } from './http-error.js';
import { answeredByProxy, proxyFailure, proxyFor } from './proxy-label.js';
import { discardBody, header, sendRequest } from './request.js';
import type { RateLimiter } from './rate-limit.js';
import { parseRetryAfter, withRetries, type RetryEvent, type RetryOptions } from './retry.js';

export interface FetchBytesOptions {
  dispatcher: Dispatcher;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Refuse bodies larger than this (default 1 GiB): an index is never that big. */
  maxBytes?: number;
  retry?: RetryOptions;
  onRetry?: (event: RetryEvent & { url: string; reason: string }) => void;
  /** The run's bandwidth cap: index and metadata reads count against it like package files. */
  limiter?: RateLimiter;
}

export interface FetchedBytes {
  body: Buffer;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Final URL, after redirects: relative links in the document resolve against it. */
  url: string;
}

/**
 * GETs `url` and returns its body. A non-2xx status is an HttpStatusError with code
 * `EHTTP<status>` (404/410 are not retried, so callers can fall back at once).
 */
export async function fetchBytes(url: string, opts: FetchBytesOptions): Promise<FetchedBytes> {
  const proxy = proxyFor(opts.dispatcher, url);
  try {
    return await withRetries(() => fetchOnce(url, opts), {
      ...opts.retry,
      ...(opts.signal ? { signal: opts.signal } : {}),
      onRetry: (event) => {
        const reason = retryReason(event.error, proxyFailure(event.error, proxy));
        opts.onRetry?.({ ...event, url, reason });
      },
    });
  } catch (error) {
    if (opts.signal?.aborted) throw error;
    throw networkErrorFrom(error, url, proxyFailure(error, proxy));
  }
}

async function fetchOnce(url: string, opts: FetchBytesOptions): Promise<FetchedBytes> {
  const res = await sendRequest(url, opts);
  const proxyOf = (u: string) => proxyFor(opts.dispatcher, u);
  if (res.status < 200 || res.status > 299) {
    await res.body.dump();
    throw new HttpStatusError(
      res.url,
      res.status,
      parseRetryAfter(header(res.headers, 'retry-after')),
      answeredByProxy(res, proxyOf(res.url)) ? proxyOf(res.url) : undefined,
    );
  }
  const maxBytes = opts.maxBytes ?? 1024 ** 3;
  const length = header(res.headers, 'content-length');
  const announced = length === undefined ? undefined : Number(length);
  if (announced !== undefined && announced > maxBytes) {
    discardBody(res.body);
    throw tooLarge(res.url, announced, maxBytes);
  }
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > maxBytes) {
      discardBody(res.body);
      throw tooLarge(res.url, received, maxBytes);
    }
    chunks.push(chunk);
    const wait = opts.limiter?.reserve(chunk.length) ?? 0;
    if (wait > 0) await delay(wait, undefined, opts.signal ? { signal: opts.signal } : {});
  }
  if (announced !== undefined && received < announced) {
    throw new ShortBodyError(res.url, received, announced);
  }
  return {
    body: Buffer.concat(chunks, received),
    status: res.status,
    headers: res.headers,
    url: res.url,
  };
}

function tooLarge(url: string, bytes: number, maxBytes: number): NetworkError {
  return new NetworkError(`${url}: the document is over ${maxBytes} bytes (${bytes} so far)`, {
    url,
    code: 'ETOOLARGE',
    hint: 'the upstream sent far more than an index should be: check the source url in the config',
  });
}
