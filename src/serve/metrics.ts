/**
 * What `airlock serve` counts for an operator's Prometheus: requests by route kind and status,
 * body bytes sent, request latency, published snapshots and requests per source, snapshot
 * index builds, open connections and the process's memory. Rendered in the Prometheus text
 * exposition format (version 0.0.4) by render(), served on its own port (see
 * startMetricsServer) so that it never shares a listener with the public mirror.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UsageError } from '../errors.js';
import type { SourceType } from '../model.js';

/** What a request was aimed at: a bounded set, so the label's values stay few. */
export type RouteKind =
  | SourceType
  | 'landing'
  | 'healthz'
  | 'not-found'
  | 'bad-request'
  | 'method-not-allowed'
  | 'too-long';

// Seconds. Index pages and small files answer in milliseconds; large files to slow clients
// take minutes, which the top buckets still tell apart.
const LATENCY_BUCKETS = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
];
const BUILD_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(private readonly buckets: readonly number[]) {
    this.counts = buckets.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) this.counts[i]!++;
  }

  lines(name: string, labels: string): string[] {
    const join = (extra: string) => `{${[labels, extra].filter((s) => s !== '').join(',')}}`;
    const out = this.buckets.map(
      (le, i) => `${name}_bucket${join(`le="${le}"`)} ${this.counts[i]}`,
    );
    out.push(`${name}_bucket${join('le="+Inf"')} ${this.count}`);
    const plain = labels === '' ? '' : `{${labels}}`;
    out.push(`${name}_sum${plain} ${this.sum}`, `${name}_count${plain} ${this.count}`);
    return out;
  }
}

export class ServeMetrics {
  private readonly requests = new Map<string, number>();
  private readonly bytes = new Map<string, number>();
  private readonly latency = new Map<string, Histogram>();
  private readonly snapshotRequests = new Map<string, number>();
  private readonly builds = new Histogram(BUILD_BUCKETS);
  private buildFailures = 0;
  private connections = 0;
  private connectionsTotal = 0;
  private published: { generation: number; snapshots: Map<string, number> } = {
    generation: 0,
    snapshots: new Map(),
  };
  private readonly started = Date.now() / 1000;

  request(kind: RouteKind, status: number, bytes: number, seconds: number): void {
    const key = `kind="${kind}",status="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const kindLabel = `kind="${kind}"`;
    this.bytes.set(kindLabel, (this.bytes.get(kindLabel) ?? 0) + bytes);
    let histogram = this.latency.get(kindLabel);
    if (!histogram) this.latency.set(kindLabel, (histogram = new Histogram(LATENCY_BUCKETS)));
    histogram.observe(seconds);
  }

  /** A request answered from a snapshot: `latest` or a dated one (its id is not a label). */
  snapshotRequest(source: string, latest: boolean): void {
    const key = `source="${escapeLabel(source)}",snapshot="${latest ? 'latest' : 'dated'}"`;
    this.snapshotRequests.set(key, (this.snapshotRequests.get(key) ?? 0) + 1);
  }

  publishedState(generation: number, snapshotsBySource: Map<string, number>): void {
    this.published = { generation, snapshots: snapshotsBySource };
  }

  indexBuilt(seconds: number, ok: boolean): void {
    if (ok) this.builds.observe(seconds);
    else this.buildFailures++;
  }

  connectionOpened(): void {
    this.connections++;
    this.connectionsTotal++;
  }

  connectionClosed(): void {
    this.connections--;
  }

  render(): string {
    const out: string[] = [];
    const family = (name: string, type: string, help: string) =>
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    const series = (name: string, values: Map<string, number>) => {
      for (const [labels, value] of values) out.push(`${name}{${labels}} ${value}`);
    };

    family(
      'airlock_http_requests_total',
      'counter',
      'HTTP requests answered, by route kind and status.',
    );
    series('airlock_http_requests_total', this.requests);
    family(
      'airlock_http_response_bytes_total',
      'counter',
      'Response body bytes sent, by route kind.',
    );
    series('airlock_http_response_bytes_total', this.bytes);
    family(
      'airlock_http_request_duration_seconds',
      'histogram',
      'Time from a request arriving to the end of its response, by route kind.',
    );
    for (const [labels, histogram] of this.latency) {
      out.push(...histogram.lines('airlock_http_request_duration_seconds', labels));
    }
    family(
      'airlock_snapshot_requests_total',
      'counter',
      'Requests answered from a snapshot, by source and latest/dated.',
    );
    series('airlock_snapshot_requests_total', this.snapshotRequests);
    family('airlock_published_snapshots', 'gauge', 'Snapshots published and served, by source.');
    for (const [source, n] of this.published.snapshots) {
      out.push(`airlock_published_snapshots{source="${escapeLabel(source)}"} ${n}`);
    }
    family(
      'airlock_published_generation',
      'gauge',
      'Generation of the published state being served.',
    );
    out.push(`airlock_published_generation ${this.published.generation}`);
    family(
      'airlock_index_build_duration_seconds',
      'histogram',
      'Time to build the index of a snapshot document.',
    );
    out.push(...this.builds.lines('airlock_index_build_duration_seconds', ''));
    family('airlock_index_build_failures_total', 'counter', 'Snapshot index builds that failed.');
    out.push(`airlock_index_build_failures_total ${this.buildFailures}`);
    family('airlock_http_open_connections', 'gauge', 'TCP connections open to the mirror now.');
    out.push(`airlock_http_open_connections ${this.connections}`);
    family('airlock_http_connections_total', 'counter', 'TCP connections accepted by the mirror.');
    out.push(`airlock_http_connections_total ${this.connectionsTotal}`);
    const memory = process.memoryUsage();
    family('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.');
    out.push(`process_resident_memory_bytes ${memory.rss}`);
    family('nodejs_heap_used_bytes', 'gauge', 'V8 heap in use, in bytes.');
    out.push(`nodejs_heap_used_bytes ${memory.heapUsed}`);
    family(
      'process_start_time_seconds',
      'gauge',
      'Start time of the process since the Unix epoch, in seconds.',
    );
    out.push(`process_start_time_seconds ${this.started}`);
    return `${out.join('\n')}\n`;
  }
}

/** A label value as the text format wants it: backslash, quote and newline escaped. */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/** GET /metrics on its own listener; anything else is a 404. */
export async function startMetricsServer(
  metrics: ServeMetrics,
  host: string,
  port: number,
): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if ((req.method !== 'GET' && req.method !== 'HEAD') || path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('not found: metrics are at /metrics\n');
      return;
    }
    const body = metrics.render();
    res.writeHead(200, {
      'Content-Type': 'text/plain; version=0.0.4; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot listen for metrics on ${host}:${port}: ${code ?? String(err)}`, {
      hint:
        code === 'EADDRINUSE'
          ? 'another process has that port: choose another --metrics-port'
          : 'check --metrics-host and --metrics-port (ports below 1024 need privileges)',
      cause: err,
    });
  }
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
