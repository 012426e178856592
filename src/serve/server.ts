/**
 * `airlock serve` as a library: a node:http server over a repository's storage, stateless
 * apart from caches of immutable things, so several instances can share one bucket. The CLI
 * calls startServer(), prints the access log and wires SIGTERM to close().
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AirlockError, StorageError } from '../errors.js';
import type { Storage } from '../repo/storage.js';
import type { AccessLogEntry } from './access-log.js';
import type { RouteKind, ServeMetrics } from './metrics.js';
import { serveCran } from './cran-handler.js';
import { renderLandingPage } from './landing-page.js';
import { publicOrigin } from './public-origin.js';
import { listenError } from './listen-error.js';
import { PageCache } from './page-cache.js';
import { servePypi } from './pypi-handler.js';
import { RepositoryView, type RepositoryState } from './repository-view.js';
import type { CarriedSummary } from './carried-summary.js';
import { matchRoute } from './route-table.js';
import { sendText, type Exchange } from './send.js';
import { SnapshotIndexes } from './snapshot-indexes.js';

export type ServeEvent =
  | { type: 'published-changed'; generation: number; snapshots: number }
  | { type: 'published-unreadable'; message: string }
  | { type: 'request-failed'; method: string; path: string; error: Error };

export interface ServerOptions {
  storage: Storage;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 4242; 0 picks a free port. */
  port?: number;
  /** How often published.json is re-checked, in milliseconds (default 2000). */
  refreshMs?: number;
  /** How long close() lets in-flight responses finish before cutting them (default 10 s). */
  closeTimeoutMs?: number;
  /**
   * Where the private directory of snapshot indexes is made (default: the system temp
   * directory, $TMPDIR); it is removed by close().
   */
  tempDir?: string;
  /** Snapshot indexes kept open at once (default 16). */
  maxOpenIndexes?: number;
  /** Bounds against many and hostile clients (defaults: SERVE_LIMITS). */
  limits?: Partial<ServeLimits>;
  /** Counters to update (the CLI serves them on --metrics-port); none by default. */
  metrics?: ServeMetrics;
  onRequest?: (entry: AccessLogEntry) => void;
  onEvent?: (event: ServeEvent) => void;
}

/**
 * What one server accepts, so that it stays up and its memory bounded under load and abuse.
 * Every open connection holds at most one request (node answers pipelined requests one at a
 * time), hence at most one storage stream: maxConnections bounds sockets and open files alike.
 */
export interface ServeLimits {
  /** Connections open at once; more are closed as they arrive (node's maxConnections). */
  maxConnections: number;
  /** Request line plus headers, in bytes: larger gets 431 (node's maxHeaderSize). */
  maxHeaderBytes: number;
  /** Request target length in bytes: longer gets 414. */
  maxUrlBytes: number;
  /** A client must send its whole request head within this (slowloris): else 408, closed. */
  headersTimeoutMs: number;
  /** ... and its whole request within this. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this (above common load balancers' 60 s). */
  keepAliveTimeoutMs: number;
  /** A connection on which nothing moves, either way, for this long is closed (a client that stopped reading). */
  idleTimeoutMs: number;
}

export const SERVE_LIMITS: ServeLimits = {
  maxConnections: 4096,
  maxHeaderBytes: 16 * 1024,
  maxUrlBytes: 8 * 1024,
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 65_000,
  idleTimeoutMs: 120_000,
};

export interface RunningServer {
  url: string;
  port: number;
  /** The private directory holding the snapshot indexes (removed by close()). */
  indexDir: string;
  /**
   * Stops accepting, lets in-flight requests finish, removes the index directory, then
   * resolves. The caller closes the storage.
   */
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { storage, metrics } = options;
  const limits = { ...SERVE_LIMITS, ...options.limits };
  // Made before listening: a temp directory that cannot be written stops the start, not
  // the first request.
  const indexes = await SnapshotIndexes.create(storage, {
    tempDir: options.tempDir,
    maxOpen: options.maxOpenIndexes,
    ...(metrics ? { onBuilt: (seconds, ok) => metrics.indexBuilt(seconds, ok) } : {}),
  });
  const onEvent = (event: ServeEvent) => {
    if (event.type === 'published-changed' && metrics) {
      void view.current().then((state) => {
        const counts = new Map([...state.snapshotIds].map(([source, ids]) => [source, ids.length]));
        metrics.publishedState(state.published.generation, counts);
      });
    }
    options.onEvent?.(event);
  };
  const view = new RepositoryView(storage, options.refreshMs ?? 2000, indexes, onEvent);
  const pages = new PageCache();
  let closing = false;

  const server = createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // How often node looks for requests past those timeouts (its default, 30 s, would let a
      // slow client hold a connection half a minute longer than headersTimeout says).
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
    (req, res) => {
      const ex: Exchange = { req, res, bytes: 0 };
      const tag: Tag = { kind: 'not-found' };
      const started = performance.now();
      const time = new Date();
      if (closing) res.setHeader('Connection', 'close');
      res.on('close', () => {
        const ms = performance.now() - started;
        options.onRequest?.(accessEntry(req, res, ex.bytes, time, ms));
        metrics?.request(tag.kind, res.statusCode, ex.bytes, ms / 1000);
        if (closing) server.closeIdleConnections();
      });
      handle(ex, { storage, view, pages, server, limits, metrics }, tag).catch((err: unknown) =>
        failed(ex, err, onEvent),
      );
    },
  );
  server.maxConnections = limits.maxConnections;
  // No 'timeout' listener: node destroys a socket idle this long.
  server.setTimeout(limits.idleTimeoutMs);
  if (metrics) {
    server.on('connection', (socket) => {
      metrics.connectionOpened();
      socket.once('close', () => metrics.connectionClosed());
    });
  }

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 4242, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await indexes.close();
    throw listenError(err, options.host ?? '127.0.0.1', options.port ?? 4242);
  }
  // Read published.json now, so /healthz answers from the first request on.
  await view.current();
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    indexDir: indexes.dir,
    async close() {
      closing = true;
      await new Promise<void>((resolve) => {
        const force = setTimeout(
          () => server.closeAllConnections(),
          options.closeTimeoutMs ?? 10_000,
        );
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
      await indexes.close();
    },
  };
}

interface Services {
  storage: Storage;
  view: RepositoryView;
  pages: PageCache;
  server: ReturnType<typeof createServer>;
  limits: ServeLimits;
  metrics: ServeMetrics | undefined;
}

/** What the request turned out to be aimed at, for the metrics. */
interface Tag {
  kind: RouteKind;
}

async function handle(ex: Exchange, services: Services, tag: Tag): Promise<void> {
  const { req } = ex;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    tag.kind = 'method-not-allowed';
    return sendText(ex, 405, `method ${req.method} not allowed: this mirror is read-only\n`, {
      Allow: 'GET, HEAD',
    });
  }
  const url = req.url ?? '/';
  if (Buffer.byteLength(url) > services.limits.maxUrlBytes) {
    tag.kind = 'too-long';
    return sendText(
      ex,
      414,
      `URI too long: this mirror accepts at most ${services.limits.maxUrlBytes} bytes\n`,
      {
        Connection: 'close',
      },
    );
  }
  const pathname = decodedPath(url);
  if (pathname === undefined) {
    tag.kind = 'bad-request';
    return sendText(ex, 400, 'bad request: the path is not valid percent-encoded UTF-8\n');
  }
  if (!safePath(pathname)) {
    tag.kind = 'bad-request';
    return sendText(
      ex,
      400,
      'bad request: the path has a ".." or "." segment, a backslash or a NUL\n',
    );
  }
  if (pathname === '/healthz') {
    tag.kind = 'healthz';
    return health(ex, services.view);
  }
  const state = await services.view.current();
  if (pathname === '/') {
    tag.kind = 'landing';
    const origin = publicOrigin(req.headers, boundHost(services.server));
    const html = renderLandingPage(
      state,
      origin.host,
      origin.scheme,
      await carriedByLatest(state, services.view),
    );
    return sendText(ex, 200, html, { 'Content-Type': 'text/html; charset=utf-8' });
  }
  const match = matchRoute(state.routes, pathname);
  if (!match) {
    const served = state.routes.map((route) => `/${route.template}/`).join(', ') || 'nothing yet';
    return sendText(ex, 404, `not found: ${pathname}\nthis server serves: ${served}\n`);
  }
  const { source } = match.route;
  tag.kind = match.route.type;
  const snapshot = services.view.resolve(state, source, match.snapshot);
  if (!snapshot) {
    const published = state.snapshotIds.get(source)?.join(', ') || 'none';
    return sendText(
      ex,
      404,
      `no snapshot ${match.snapshot} of source ${source}; published: ${published} (and latest)\n`,
    );
  }
  services.metrics?.snapshotRequest(source, match.snapshot === 'latest');
  try {
    const index = await services.view.snapshot(snapshot.published.document);
    const sr = {
      ex,
      storage: services.storage,
      view: services.view,
      pages: services.pages,
      state,
      match,
      snapshot,
      index,
    };
    return await (match.route.type === 'pypi' ? servePypi(sr) : serveCran(sr));
  } catch (err) {
    // `airlock prune` removed the snapshot after this request's state was read, and deleted
    // its files (a grace period of 0): for the client that is a snapshot that no longer
    // exists, not a broken server.
    const code = (err as { code?: unknown }).code;
    const gone =
      (code === 'EDOCUMENT' || code === 'ENOBLOB') &&
      !ex.res.headersSent &&
      !(await services.view.stillPublished(source, snapshot.id, snapshot.published.document));
    if (!gone) throw err;
    for (const name of ex.res.getHeaderNames()) ex.res.removeHeader(name);
    return sendText(
      ex,
      404,
      `snapshot ${snapshot.id} of source ${source} is no longer published (it was pruned)\n`,
    );
  }
}

/** What each source's latest snapshot carries; a source whose index fails is left out. */
async function carriedByLatest(
  state: RepositoryState,
  view: RepositoryView,
): Promise<Map<string, CarriedSummary>> {
  const carried = new Map<string, CarriedSummary>();
  for (const route of state.routes) {
    const latest = view.resolve(state, route.source, 'latest');
    if (!latest) continue;
    try {
      carried.set(route.source, (await view.snapshot(latest.published.document)).carried());
    } catch {
      // The landing page still lists the snapshots; a request for the files reports the fault.
    }
  }
  return carried;
}

function health(ex: Exchange, view: RepositoryView): Promise<void> {
  return view.current().then((state) => {
    const problem = view.health();
    const snapshots = [...state.snapshotIds.values()].reduce((n, ids) => n + ids.length, 0);
    const body = problem
      ? { status: 'unavailable', error: problem.message }
      : { status: 'ok', generation: state.published.generation, snapshots };
    sendText(ex, problem ? 503 : 200, `${JSON.stringify(body)}\n`, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-store',
    });
  });
}

function failed(ex: Exchange, err: unknown, onEvent: (event: ServeEvent) => void): void {
  const error = err instanceof Error ? err : new Error(String(err));
  onEvent({ type: 'request-failed', method: ex.req.method ?? '', path: ex.req.url ?? '', error });
  if (ex.res.headersSent) {
    // The status line is gone: cutting the connection is the only way to tell the client.
    ex.res.destroy(error);
    return;
  }
  for (const name of ex.res.getHeaderNames()) ex.res.removeHeader(name);
  const status = err instanceof StorageError ? 503 : 500;
  const hint = err instanceof AirlockError && err.hint ? `\n${err.hint}` : '';
  sendText(
    ex,
    status,
    `${status === 503 ? 'storage unavailable' : 'internal error'}: ${error.message}${hint}\n`,
  );
}

function decodedPath(url: string): string | undefined {
  const pathname = url.split('?')[0]!.split('#')[0]!;
  try {
    return decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
}

/**
 * Paths are looked up in snapshot indexes, never on a file system, so nothing outside a
 * snapshot can be reached whatever the path; refusing what no client sends (dot segments
 * after decoding, so %2e%2e too; backslashes; NUL) keeps it that way should that ever change.
 */
function safePath(pathname: string): boolean {
  if (/[\\\0]/.test(pathname)) return false;
  return !pathname.split('/').some((segment) => segment === '.' || segment === '..');
}

// The landing page prints URLs with the host the visitor used (see public-origin.ts); without
// a usable one, the address the server is bound to.
function boundHost(server: Services['server']): string {
  const address = server.address() as AddressInfo;
  return `${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
}

function accessEntry(
  req: IncomingMessage,
  res: ServerResponse,
  bytes: number,
  time: Date,
  ms: number,
): AccessLogEntry {
  return {
    time,
    remote: req.socket.remoteAddress ?? '',
    method: req.method ?? '',
    path: req.url ?? '',
    httpVersion: req.httpVersion,
    status: res.statusCode,
    bytes,
    ms: Math.round(ms * 10) / 10,
    userAgent: req.headers['user-agent'] ?? '',
  };
}
