/**
 * One package file, from the upstream into blobs/: streamed to a partial file in tmp/ while
 * it is hashed, resumed with Range + If-Range after a drop, verified (size, then sha256/md5),
 * and only then committed under its sha256. A file that never verifies is never stored.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { BlobStore } from '../workspace/blob-store.js';
import {
  HashMismatchError,
  HttpStatusError,
  networkErrorFrom,
  retryReason,
  ShortBodyError,
} from './http-error.js';
import { answeredByProxy, proxyFailure, proxyFor } from './proxy-label.js';
import {
  discardPartial,
  partialPaths,
  readPartial,
  resumeValidator,
  writeMeta,
  type PartialPaths,
} from './partial-file.js';
import type { RateLimiter } from './rate-limit.js';
import { oneAtATime } from './one-at-a-time.js';
import { discardBody, header, parseContentRange, sendRequest, type Response } from './request.js';
import { streamToPart, type StreamToPartOptions } from './stream-to-part.js';
import { parseRetryAfter, withRetries, type RetryEvent, type RetryOptions } from './retry.js';

export interface ExpectedFile {
  /** lowercase hex, as PyPI publishes it */
  sha256?: string;
  /** lowercase hex, as CRAN's PACKAGES MD5sum publishes it; md5 is computed only when given */
  md5?: string;
  size?: number;
}

export interface FileRequest {
  url: string;
  /** Sent with every attempt, e.g. an R User-Agent that selects a binary variant. */
  headers?: Record<string, string>;
  expected: ExpectedFile;
}

export interface FetchContext {
  dispatcher: Dispatcher;
  store: BlobStore;
  limiter?: RateLimiter;
  signal?: AbortSignal;
  retry?: RetryOptions;
  /** Body bytes as they arrive (all attempts), for progress bars. Called per chunk: keep it cheap. */
  onProgress?: (deltaBytes: number) => void;
  onRetry?: (event: RetryEvent & { url: string; reason: string }) => void;
}

export interface FetchedFile {
  sha256: string;
  /** Only when expected.md5 was given (or a partial was hashed for it). */
  md5: string | undefined;
  size: number;
  /** Body bytes received over the network for this file, all attempts. 0 when deduplicated. */
  bytesTransferred: number;
  /** True when bytes kept from an earlier attempt or process were used. */
  resumed: boolean;
  /** Requests made (0 when the blob was already in the store). */
  attempts: number;
}

// Below this size a partial is not worth the extra .json write per file: a kill restarts it.
const RESUMABLE_MIN_BYTES = 256 * 1024;

interface Attempt {
  req: FileRequest;
  ctx: FetchContext;
  paths: PartialPaths;
  /** bytes: received over the network; position/highWater: where the partial file is, and its furthest point. */
  tally: { bytes: number; resumed: boolean; attempts: number; position: number; highWater: number };
}

export async function fetchFile(req: FileRequest, ctx: FetchContext): Promise<FetchedFile> {
  const expected = {
    ...req.expected,
    sha256: req.expected.sha256?.toLowerCase(),
    md5: req.expected.md5?.toLowerCase(),
  };
  const request = { ...req, expected };
  const paths = partialPaths(ctx.store.tmpDir, req.url, req.headers);
  // Two tasks asking for the same URL and headers would share one partial file: the second
  // waits for the first, and then usually finds the blob already stored.
  return oneAtATime(ctx.store, paths.part, async () => {
    const stored = await alreadyStored(ctx.store, expected.sha256);
    if (stored !== undefined) return stored;
    await ctx.store.init();
    const tally = { bytes: 0, resumed: false, attempts: 0, position: 0, highWater: 0 };
    return fetchWithRetries({ req: request, ctx, paths, tally });
  });
}

async function alreadyStored(
  store: BlobStore,
  sha256: string | undefined,
): Promise<FetchedFile | undefined> {
  if (sha256 === undefined) return undefined;
  const size = await store.size(sha256);
  if (size === undefined) return undefined;
  return { sha256, md5: undefined, size, bytesTransferred: 0, resumed: false, attempts: 0 };
}

async function fetchWithRetries(a: Attempt): Promise<FetchedFile> {
  const { ctx, req } = a;
  try {
    return await withRetries(
      () => {
        a.tally.attempts++;
        return attemptOnce(a, true);
      },
      {
        ...ctx.retry,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        // The file's highest byte position: a restart from 0 (a server ignoring Range) is no
        // progress, so a server that always cuts at the same point still runs out of tries.
        progress: () => a.tally.highWater,
        onRetry: (event) => {
          const proxy = proxyFor(ctx.dispatcher, req.url);
          const reason = retryReason(event.error, proxyFailure(event.error, proxy));
          ctx.onRetry?.({ ...event, url: req.url, reason });
        },
      },
    );
  } catch (error) {
    // An abort keeps the partial: the next run resumes it.
    if (ctx.signal?.aborted) throw error;
    if (error instanceof HttpStatusError && (error.status === 404 || error.status === 410)) {
      await discardPartial(a.paths, ctx.store);
    }
    throw networkErrorFrom(error, req.url, proxyFailure(error, proxyFor(ctx.dispatcher, req.url)));
  }
}

async function attemptOnce(a: Attempt, allowResume: boolean): Promise<FetchedFile> {
  const { req, ctx, paths } = a;
  const wantMd5 = req.expected.md5 !== undefined;
  const partial = allowResume ? await readPartial(paths, wantMd5, ctx.store) : undefined;
  const validator = partial && resumeValidator(partial.meta);
  const headers: Record<string, string> = { ...req.headers };
  if (partial !== undefined && validator !== undefined) {
    headers['range'] = `bytes=${partial.bytes}-`;
    headers['if-range'] = validator;
  }
  const res = await sendRequest(req.url, { dispatcher: ctx.dispatcher, headers, ...signalOf(ctx) });
  if (
    partial !== undefined &&
    validator !== undefined &&
    (res.status === 206 || res.status === 416)
  ) {
    const range = parseContentRange(header(res.headers, 'content-range'));
    if (res.status === 416) {
      await res.body.dump();
      // Range start at or past the end: the partial is the whole file, or garbage.
      if (range?.total === partial.bytes || req.expected.size === partial.bytes) {
        a.tally.resumed = true;
        return verifyAndCommit(a, partial.bytes, partial.sha256, partial.md5, false);
      }
    } else if (range?.start === partial.bytes) {
      a.tally.resumed = true;
      a.tally.position = partial.bytes;
      const received = await streamToPart(res.body, a.paths.part, {
        append: true,
        temps: ctx.store,
        sha256: partial.sha256,
        md5: partial.md5,
        ...streamOptions(a),
      });
      return finish(a, res, partial.bytes + received, range.total, partial.sha256, partial.md5);
    } else {
      discardBody(res.body);
    }
    // A range we cannot use: drop the partial and ask for the whole file.
    await discardPartial(paths, ctx.store);
    return attemptOnce(a, false);
  }
  if (res.status !== 200) {
    await res.body.dump();
    const proxy = proxyFor(ctx.dispatcher, res.url);
    throw new HttpStatusError(
      res.url,
      res.status,
      parseRetryAfter(header(res.headers, 'retry-after')),
      answeredByProxy(res, proxy) ? proxy : undefined,
    );
  }
  // 200 also answers a Range whose If-Range no longer matches: the file changed, start over.
  const length = header(res.headers, 'content-length');
  const total = length === undefined ? undefined : Number(length);
  if (total === undefined || total >= RESUMABLE_MIN_BYTES) {
    const etag = header(res.headers, 'etag');
    const lastModified = header(res.headers, 'last-modified');
    await writeMeta(
      paths,
      {
        url: req.url,
        ...(etag ? { etag } : {}),
        ...(lastModified ? { lastModified } : {}),
        ...(total === undefined ? {} : { size: total }),
      },
      ctx.store,
    );
  } else {
    await ctx.store.removeTemp(paths.meta);
  }
  const sha256 = createHash('sha256');
  const md5 = wantMd5 ? createHash('md5') : undefined;
  a.tally.position = 0;
  const received = await streamToPart(res.body, a.paths.part, {
    append: false,
    temps: ctx.store,
    sha256,
    md5,
    ...streamOptions(a),
  });
  return finish(a, res, received, total, sha256, md5);
}

async function finish(
  a: Attempt,
  res: Response,
  size: number,
  announced: number | undefined,
  sha256: Hash,
  md5: Hash | undefined,
): Promise<FetchedFile> {
  // Fewer bytes than promised is a dropped connection, not tampering: resume, don't discard.
  if (announced !== undefined && size < announced)
    throw new ShortBodyError(res.url, size, announced);
  // streamToPart fsynced the file before closing it: commit need not open it again.
  return verifyAndCommit(a, size, sha256, md5, true);
}

async function verifyAndCommit(
  a: Attempt,
  size: number,
  sha: Hash,
  md5Hash: Hash | undefined,
  synced: boolean,
): Promise<FetchedFile> {
  const { req, ctx, paths, tally } = a;
  const expected = req.expected;
  if (expected.size !== undefined && size < expected.size) {
    throw new ShortBodyError(req.url, size, expected.size);
  }
  let committed = false;
  try {
    if (expected.size !== undefined && size !== expected.size) {
      throw new HashMismatchError(req.url, 'the size', `${expected.size} bytes`, `${size} bytes`);
    }
    const sha256 = sha.digest('hex');
    const md5 = md5Hash?.digest('hex');
    if (expected.sha256 !== undefined && sha256 !== expected.sha256) {
      throw new HashMismatchError(req.url, 'the sha256', expected.sha256, sha256);
    }
    if (expected.md5 !== undefined && md5 !== expected.md5) {
      throw new HashMismatchError(req.url, 'the md5', expected.md5, md5 ?? 'not computed');
    }
    await ctx.store.commit(paths.part, sha256, { synced });
    committed = true;
    await ctx.store.removeTemp(paths.meta);
    return {
      sha256,
      md5,
      size,
      bytesTransferred: tally.bytes,
      resumed: tally.resumed,
      attempts: tally.attempts,
    };
  } finally {
    // Bytes that failed verification must not be resumed or mistaken for good later.
    if (!committed) await discardPartial(paths, ctx.store);
  }
}

function streamOptions(a: Attempt): Pick<StreamToPartOptions, 'limiter' | 'onChunk'> {
  const { ctx, tally } = a;
  const onProgress = ctx.onProgress;
  return {
    ...(ctx.limiter ? { limiter: ctx.limiter } : {}),
    onChunk: (bytes) => {
      tally.bytes += bytes;
      tally.position += bytes;
      if (tally.position > tally.highWater) tally.highWater = tally.position;
      onProgress?.(bytes);
    },
  };
}

function signalOf(ctx: FetchContext): { signal?: AbortSignal } {
  return ctx.signal === undefined ? {} : { signal: ctx.signal };
}
