/**
 * Writes one representation with HTTP done right: Content-Length, strong ETag, 304 on
 * If-None-Match / If-Modified-Since, HEAD, single-range 206/416 with If-Range, and gzip for
 * index documents when the client asks. Blob bodies stream from storage, so memory stays
 * flat whatever the file size; a client that hangs up destroys the storage stream.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { IntegrityError } from '../errors.js';
import { blobKey } from '../repo/layout.js';
import type { Storage } from '../repo/storage.js';
import {
  acceptsGzip,
  etagMatches,
  ifRangeHolds,
  notModifiedSince,
  parseRange,
} from './http-headers.js';

export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  /** Body bytes written, for the access log. */
  bytes: number;
}

export interface Representation {
  contentType: string;
  cacheControl: string;
  /** HTTP date. */
  lastModified?: string;
  /** Request headers the choice depended on (besides Accept-Encoding, added when it applies). */
  vary?: string[];
}

/** A rendered page, with its gzip form computed once and cached alongside. */
export interface RenderedBody {
  bytes: Buffer;
  /** sha256 hex of the bytes (content type included in what was hashed by the renderer). */
  sha256: string;
  gzipped?: Buffer;
}

export async function sendBlob(
  ex: Exchange,
  storage: Storage,
  file: { sha256: string; size: number },
  rep: Representation,
  options: { compressible: boolean },
): Promise<void> {
  const gzip = options.compressible && acceptsGzip(ex.req.headers['accept-encoding']);
  const etag = gzip ? `"${file.sha256}-gzip"` : `"${file.sha256}"`;
  setCommonHeaders(ex.res, rep, etag, options.compressible);
  if (answeredNotModified(ex, etag, rep)) return;
  if (gzip) {
    ex.res.setHeader('Content-Encoding', 'gzip');
    return streamBody(ex, storage, file, 200, undefined, true);
  }
  ex.res.setHeader('Accept-Ranges', 'bytes');
  const range = rangeFor(ex.req, file.size, etag, rep.lastModified);
  if (range === 'unsatisfiable') return sendRangeNotSatisfiable(ex, file.size);
  if (range) {
    ex.res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${file.size}`);
    ex.res.setHeader('Content-Length', range.end - range.start + 1);
    return streamBody(ex, storage, file, 206, range, false);
  }
  ex.res.setHeader('Content-Length', file.size);
  return streamBody(ex, storage, file, 200, undefined, false);
}

export function sendRendered(ex: Exchange, body: RenderedBody, rep: Representation): void {
  const gzip = acceptsGzip(ex.req.headers['accept-encoding']);
  const etag = gzip ? `"${body.sha256}-gzip"` : `"${body.sha256}"`;
  setCommonHeaders(ex.res, rep, etag, true);
  if (answeredNotModified(ex, etag, rep)) return;
  let bytes = body.bytes;
  if (gzip) {
    ex.res.setHeader('Content-Encoding', 'gzip');
    bytes = body.gzipped!;
  } else {
    ex.res.setHeader('Accept-Ranges', 'bytes');
    const range = rangeFor(ex.req, bytes.length, etag, rep.lastModified);
    if (range === 'unsatisfiable') return sendRangeNotSatisfiable(ex, bytes.length);
    if (range) {
      ex.res.statusCode = 206;
      ex.res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${bytes.length}`);
      bytes = bytes.subarray(range.start, range.end + 1);
    }
  }
  ex.res.setHeader('Content-Length', bytes.length);
  endWith(ex, bytes);
}

/** Small generated answers: errors, redirects, the landing page, /healthz. */
export function sendText(
  ex: Exchange,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  const bytes = Buffer.from(body, 'utf8');
  ex.res.statusCode = status;
  ex.res.setHeader('Content-Type', headers['Content-Type'] ?? 'text/plain; charset=utf-8');
  ex.res.setHeader('Cache-Control', headers['Cache-Control'] ?? 'no-cache');
  for (const [name, value] of Object.entries(headers)) ex.res.setHeader(name, value);
  ex.res.setHeader('Content-Length', bytes.length);
  endWith(ex, bytes);
}

function setCommonHeaders(
  res: ServerResponse,
  rep: Representation,
  etag: string,
  compressible: boolean,
): void {
  res.setHeader('Content-Type', rep.contentType);
  res.setHeader('Cache-Control', rep.cacheControl);
  res.setHeader('ETag', etag);
  if (rep.lastModified) res.setHeader('Last-Modified', rep.lastModified);
  const vary = [...(rep.vary ?? []), ...(compressible ? ['Accept-Encoding'] : [])];
  if (vary.length > 0) res.setHeader('Vary', vary.join(', '));
}

function answeredNotModified(ex: Exchange, etag: string, rep: Representation): boolean {
  const { headers } = ex.req;
  const notModified =
    headers['if-none-match'] !== undefined
      ? etagMatches(headers['if-none-match'], etag)
      : notModifiedSince(headers['if-modified-since'], rep.lastModified);
  if (!notModified) return false;
  ex.res.statusCode = 304;
  ex.res.end();
  return true;
}

function rangeFor(
  req: IncomingMessage,
  size: number,
  etag: string,
  lastModified: string | undefined,
) {
  // Range is defined for GET only; HEAD answers as the GET without Range would.
  if (req.method !== 'GET') return undefined;
  if (!ifRangeHolds(req.headers['if-range'] as string | undefined, etag, lastModified))
    return undefined;
  return parseRange(req.headers.range, size);
}

function sendRangeNotSatisfiable(ex: Exchange, size: number): void {
  ex.res.removeHeader('ETag');
  sendText(ex, 416, `requested range not satisfiable: the file has ${size} bytes\n`, {
    'Content-Range': `bytes */${size}`,
  });
}

function endWith(ex: Exchange, bytes: Buffer): void {
  if (ex.req.method === 'HEAD') {
    ex.res.end();
    return;
  }
  ex.bytes += bytes.length;
  ex.res.end(bytes);
}

async function streamBody(
  ex: Exchange,
  storage: Storage,
  file: { sha256: string; size: number },
  status: number,
  range: { start: number; end: number } | undefined,
  gzip: boolean,
): Promise<void> {
  ex.res.statusCode = status;
  if (ex.req.method === 'HEAD') {
    ex.res.end();
    return;
  }
  const key = blobKey(file.sha256);
  if (!gzip && storage.copyTo) {
    const copied = await storage.copyTo(key, ex.res, file.size, range);
    if (copied === undefined) throw missingBlob(key, storage);
    ex.bytes += copied;
    return;
  }
  const stream: Readable | undefined = await storage.read(key, range);
  if (!stream) throw missingBlob(key, storage);
  stream.on('data', (chunk: Buffer) => (ex.bytes += chunk.length));
  try {
    if (gzip) await pipeline(stream, createGzip(), ex.res);
    else await pipeline(stream, ex.res);
  } catch (err) {
    // A client that hangs up mid-body is normal (pip timeouts, Ctrl-C): pipeline has already
    // destroyed the storage stream, so there is nothing left to do.
    if (ex.res.destroyed && !ex.res.writableFinished) return;
    throw err;
  }
}

// A published snapshot that names a blob the repository lacks is a damaged repository (what
// `airlock check` reports as missing): the server answers 500, not 503 "try again later".
// (A blob that `airlock prune` deleted under a request has the same code: the server answers
// 404 when its snapshot is no longer published.)
function missingBlob(key: string, storage: Storage): IntegrityError {
  return new IntegrityError(`blob ${key} is missing from ${storage.location}`, {
    code: 'ENOBLOB',
    hint: `the repository is damaged: run \`airlock check --repo ${storage.location}\` and the \`airlock import MANIFEST --repair\` it names`,
  });
}
