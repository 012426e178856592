/**
 * A real node:http server for fetch tests: serves byte buffers with ETag, Last-Modified,
 * Range and If-Range, and injects faults into the next N requests of a path.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  /** Send `afterBytes` of the body, then close the connection. */
  | { kind: 'reset'; afterBytes: number; times: number }
  /** Answer with this status (and Retry-After) instead of the file. */
  | { kind: 'status'; status: number; retryAfter?: string; times: number }
  /** Send `afterBytes` of the body, then go silent with the connection open. */
  | { kind: 'stall'; afterBytes: number; times: number }
  /** Send the right length of wrong bytes. */
  | { kind: 'corrupt'; times: number }
  /** Announce and send `missingBytes` fewer bytes than the file has: a lying Content-Length. */
  | { kind: 'short'; missingBytes: number; times: number };

export interface ServedFile {
  body: Buffer;
  /** Default: a strong ETag from the content. null: no ETag header. */
  etag?: string | null;
  lastModified?: string;
  faults?: Fault[];
}

export interface LoggedRequest {
  path: string;
  headers: IncomingMessage['headers'];
  status: number;
  bytesSent: number;
}

export interface FaultServer {
  origin: string;
  url(path: string): string;
  /** Serves (or replaces) a file at `path`. */
  set(path: string, file: ServedFile): void;
  redirect(from: string, location: string): void;
  requests: LoggedRequest[];
  requestsFor(path: string): LoggedRequest[];
  bytesSentFor(path: string): number;
  close(): Promise<void>;
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function md5(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('hex');
}

/** Deterministic pseudo-random bytes (so a corrupted copy really differs). */
export function randomBytesOf(size: number, seed = 1): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export async function startFaultServer(): Promise<FaultServer> {
  const files = new Map<string, ServedFile>();
  const redirects = new Map<string, string>();
  const requests: LoggedRequest[] = [];
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const entry: LoggedRequest = { path, headers: req.headers, status: 0, bytesSent: 0 };
    requests.push(entry);
    const location = redirects.get(path);
    const file = files.get(path);
    if (location !== undefined) {
      entry.status = 302;
      res.writeHead(302, { location, 'content-length': 0 }).end();
    } else if (file === undefined) {
      entry.status = 404;
      res.writeHead(404, { 'content-length': 9 }).end('not found');
    } else {
      serveFile(req, res, file, entry);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url: (path) => origin + path,
    set: (path, file) => files.set(path, file),
    redirect: (from, location) => redirects.set(from, location),
    requests,
    requestsFor: (path) => requests.filter((r) => r.path === path),
    bytesSentFor: (path) =>
      requests.filter((r) => r.path === path).reduce((sum, r) => sum + r.bytesSent, 0),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function takeFault(file: ServedFile): Fault | undefined {
  const fault = file.faults?.find((f) => f.times > 0);
  if (fault !== undefined) fault.times -= 1;
  return fault;
}

function serveFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: ServedFile,
  entry: LoggedRequest,
) {
  const fault = takeFault(file);
  if (fault?.kind === 'status') {
    entry.status = fault.status;
    const headers = fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter };
    res.writeHead(fault.status, { ...headers, 'content-length': 0 }).end();
    return;
  }
  const etag = file.etag === undefined ? `"${sha256(file.body).slice(0, 16)}"` : file.etag;
  const lastModified = file.lastModified ?? 'Tue, 01 Sep 2026 00:00:00 GMT';
  const headers: Record<string, string | number> = {
    'accept-ranges': 'bytes',
    'last-modified': lastModified,
  };
  if (etag !== null) headers['etag'] = etag;
  let body = fault?.kind === 'corrupt' ? Buffer.from(file.body.map((b) => b ^ 0x5a)) : file.body;
  let status = 200;
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const ifRange = req.headers['if-range'];
  // If-Range: the range applies only while the validator still matches (RFC 9110 §13.1.5).
  if (range && (ifRange === undefined || ifRange === etag || ifRange === lastModified)) {
    const start = Number(range[1]);
    if (start >= body.length) {
      entry.status = 416;
      res.writeHead(416, { 'content-range': `bytes */${body.length}`, 'content-length': 0 }).end();
      return;
    }
    status = 206;
    headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    body = body.subarray(start);
  }
  if (fault?.kind === 'short')
    body = body.subarray(0, Math.max(0, body.length - fault.missingBytes));
  entry.status = status;
  res.writeHead(status, { ...headers, 'content-length': body.length });
  if (fault?.kind === 'reset' || fault?.kind === 'stall') {
    const head = body.subarray(0, fault.afterBytes);
    entry.bytesSent += head.length;
    // Destroy only once the bytes reached the kernel, so the client really gets them first.
    res.write(head, () => {
      if (fault.kind === 'reset') res.socket?.destroy();
    });
    return;
  }
  entry.bytesSent += body.length;
  res.end(body);
}
