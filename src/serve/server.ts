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
import { serveCran } from './cran-handler.js';
import { renderLandingPage } from './landing-page.js';
import { publicOrigin } from './public-origin.js';
import { listenError } from './listen-error.js';
import { PageCache } from './page-cache.js';
import { servePypi } from './pypi-handler.js';
import { RepositoryView } from './repository-view.js';
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
  onRequest?: (entry: AccessLogEntry) => void;
  onEvent?: (event: ServeEvent) => void;
}

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
  const { storage, onEvent = () => {} } = options;
  // Made before listening: a temp directory that cannot be written stops the start, not
  // the first request.
  const indexes = await SnapshotIndexes.create(storage, {
    tempDir: options.tempDir,
    maxOpen: options.maxOpenIndexes,
  });
  const view = new RepositoryView(storage, options.refreshMs ?? 2000, indexes, onEvent);
  const pages = new PageCache();
  let closing = false;

  const server = createServer({ keepAliveTimeout: 65_000, headersTimeout: 70_000 }, (req, res) => {
    const ex: Exchange = { req, res, bytes: 0 };
    const started = performance.now();
    const time = new Date();
    if (closing) res.setHeader('Connection', 'close');
    res.on('close', () => {
      options.onRequest?.(accessEntry(req, res, ex.bytes, time, performance.now() - started));
      if (closing) server.closeIdleConnections();
    });
    handle(ex, { storage, view, pages, server }).catch((err: unknown) => failed(ex, err, onEvent));
  });

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
}

async function handle(ex: Exchange, services: Services): Promise<void> {
  const { req } = ex;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return sendText(ex, 405, `method ${req.method} not allowed: this mirror is read-only\n`, {
      Allow: 'GET, HEAD',
    });
  }
  const pathname = decodedPath(req.url ?? '/');
  if (pathname === undefined)
    return sendText(ex, 400, 'bad request: the path is not valid percent-encoded UTF-8\n');
  if (pathname === '/healthz') return health(ex, services.view);
  const state = await services.view.current();
  if (pathname === '/') {
    const origin = publicOrigin(req.headers, boundHost(services.server));
    const html = renderLandingPage(state, origin.host, origin.scheme);
    return sendText(ex, 200, html, { 'Content-Type': 'text/html; charset=utf-8' });
  }
  const match = matchRoute(state.routes, pathname);
  if (!match) {
    const served = state.routes.map((route) => `/${route.template}/`).join(', ') || 'nothing yet';
    return sendText(ex, 404, `not found: ${pathname}\nthis server serves: ${served}\n`);
  }
  const { source } = match.route;
  const snapshot = services.view.resolve(state, source, match.snapshot);
  if (!snapshot) {
    const published = state.snapshotIds.get(source)?.join(', ') || 'none';
    return sendText(
      ex,
      404,
      `no snapshot ${match.snapshot} of source ${source}; published: ${published} (and latest)\n`,
    );
  }
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
