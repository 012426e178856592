/**
 * Prometheus metrics for `airlock serve`: scraped over real HTTP from their own port and
 * parsed as the text exposition format; the counters follow the requests made. Off by
 * default: the mirror's own port never serves /metrics.
 */
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServeMetrics, startMetricsServer, type MetricsServer } from '../../src/serve/metrics.js';
import type { RunningServer } from '../../src/serve/server.js';
import { startAirlock } from '../helpers/cli.js';
import { createHarness, type Harness } from './serve-harness.js';

let h: Harness;
let server: RunningServer;
let metricsServer: MetricsServer;
const metrics = new ServeMetrics();
const FILE = '/cran/2026-11-01/src/contrib/airA_1.0.tar.gz';

beforeAll(async () => {
  h = await createHarness();
  server = await h.start({ metrics });
  metricsServer = await startMetricsServer(metrics, '127.0.0.1', 0);
});
afterAll(async () => {
  await metricsServer?.close();
  await h.cleanup();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The text format, strictly: HELP and TYPE before each family's samples, every line valid. */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  expect(text.endsWith('\n')).toBe(true);
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const helped = new Set<string>();
  for (const line of text.slice(0, -1).split('\n')) {
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (comment) {
      if (comment[1] === 'HELP') helped.add(comment[2]!);
      else {
        expect(['counter', 'gauge', 'histogram']).toContain(comment[3]);
        types.set(comment[2]!, comment[3]!);
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|\+Inf|NaN)$/.exec(line);
    expect(m, `not a valid sample line: ${line}`).not.toBeNull();
    const labels: Record<string, string> = {};
    for (const pair of (m![2] ?? '').match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) ?? []) {
      const eq = pair.indexOf('=');
      labels[pair.slice(0, eq)] = pair.slice(eq + 2, -1);
    }
    const name = m![1]!;
    const family = name.replace(/_(bucket|sum|count)$/, '');
    expect(types.has(name) || types.get(family) === 'histogram', `no TYPE for ${name}`).toBe(true);
    expect(helped.has(types.has(name) ? name : family)).toBe(true);
    samples.push({ name, labels, value: Number(m![3]) });
  }
  return { samples, types };
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return found.reduce((sum, s) => sum + s.value, 0);
}

async function scrape(url = metricsServer.url) {
  const res = await request(url);
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(await res.body.text());
}

describe('metrics', () => {
  it('count requests by kind and status, bytes sent, latency, snapshots, index builds, connections', async () => {
    const agent = new Agent({ connections: 1 });
    const bodies: number[] = [];
    for (const [path, headers] of [
      [FILE, {}],
      [FILE, { range: 'bytes=0-9' }],
      ['/cran/latest/src/contrib/PACKAGES', {}],
      ['/pypi/latest/simple/', {}],
      ['/nowhere', {}],
      ['/healthz', {}],
    ] as const) {
      const res = await request(`${server.url}${path}`, { headers, dispatcher: agent });
      bodies.push((await res.body.arrayBuffer()).byteLength);
    }
    const post = await request(`${server.url}/`, { method: 'POST', dispatcher: agent });
    await post.body.dump();

    const { samples, types } = await scrape();
    expect(types.get('airlock_http_request_duration_seconds')).toBe('histogram');
    expect(value(samples, 'airlock_http_requests_total', { kind: 'cran', status: '200' })).toBe(2);
    expect(value(samples, 'airlock_http_requests_total', { kind: 'cran', status: '206' })).toBe(1);
    expect(value(samples, 'airlock_http_requests_total', { kind: 'pypi', status: '200' })).toBe(1);
    expect(
      value(samples, 'airlock_http_requests_total', { kind: 'not-found', status: '404' }),
    ).toBe(1);
    expect(value(samples, 'airlock_http_requests_total', { kind: 'healthz', status: '200' })).toBe(
      1,
    );
    expect(
      value(samples, 'airlock_http_requests_total', { kind: 'method-not-allowed', status: '405' }),
    ).toBe(1);
    // Bytes sent: every body the client received, the 405's included.
    const sent = value(samples, 'airlock_http_response_bytes_total');
    expect(sent).toBeGreaterThanOrEqual(bodies.reduce((a, b) => a + b, 0));
    expect(value(samples, 'airlock_http_response_bytes_total', { kind: 'cran' })).toBe(
      bodies[0]! + bodies[1]! + bodies[2]!,
    );
    // The histogram: cumulative buckets, +Inf equal to the count, one observation per request.
    const buckets = samples.filter(
      (s) => s.name === 'airlock_http_request_duration_seconds_bucket' && s.labels.kind === 'cran',
    );
    for (let i = 1; i < buckets.length; i++) {
      expect(buckets[i]!.value).toBeGreaterThanOrEqual(buckets[i - 1]!.value);
    }
    expect(buckets.at(-1)).toMatchObject({ labels: { le: '+Inf' }, value: 3 });
    expect(value(samples, 'airlock_http_request_duration_seconds_count', { kind: 'cran' })).toBe(3);
    expect(
      value(samples, 'airlock_snapshot_requests_total', { source: 'cran', snapshot: 'dated' }),
    ).toBe(2);
    expect(
      value(samples, 'airlock_snapshot_requests_total', { source: 'cran', snapshot: 'latest' }),
    ).toBe(1);
    expect(value(samples, 'airlock_published_snapshots', { source: 'cran' })).toBe(
      h.catalog.snapshots.length,
    );
    expect(value(samples, 'airlock_published_generation')).toBeGreaterThan(0);
    expect(value(samples, 'airlock_index_build_duration_seconds_count')).toBeGreaterThanOrEqual(2);
    // The agent's keep-alive connection is still open.
    expect(value(samples, 'airlock_http_open_connections')).toBe(1);
    await agent.close();
    await expect
      .poll(async () => value((await scrape()).samples, 'airlock_http_open_connections'))
      .toBe(0);
    expect(value(samples, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('the metrics port answers only /metrics, and the mirror never serves it', async () => {
    const other = await request(metricsServer.url.replace('/metrics', '/'));
    expect(other.statusCode).toBe(404);
    await other.body.dump();
    const mirror = await request(`${server.url}/metrics`);
    expect(mirror.statusCode).toBe(404);
    await mirror.body.dump();
  });
});

describe('airlock serve --metrics-port and --access-log json', () => {
  it('prints where the metrics are, serves them, and logs one JSON object per request', async () => {
    const child = startAirlock([
      'serve',
      '--repo',
      `${h.dir}/repo`,
      '--port',
      '0',
      '--metrics-port',
      '0',
      '--access-log',
      'json',
    ]);
    try {
      const lines = createInterface({ input: child.stderr! });
      let mirror = '';
      let scrapeUrl = '';
      for await (const line of lines) {
        mirror ||= /at (http:\/\/\S+)\/ \(healthz/.exec(line)?.[1] ?? '';
        scrapeUrl ||= /metrics at (http:\/\/\S+)/.exec(line)?.[1] ?? '';
        if (mirror && scrapeUrl) break;
      }
      const res = await request(`${mirror}${FILE}`, { headers: { 'user-agent': 'metrics-test' } });
      const size = (await res.body.arrayBuffer()).byteLength;
      const [logLine] = (await once(child.stdout!, 'data')) as [Buffer];
      const entry = JSON.parse(logLine.toString().split('\n')[0]!) as Record<string, unknown>;
      expect(entry).toMatchObject({
        method: 'GET',
        path: FILE,
        status: 200,
        bytes: size,
        userAgent: 'metrics-test',
      });
      expect(Date.parse(String(entry.time))).not.toBeNaN();
      const { samples } = await scrape(scrapeUrl);
      expect(value(samples, 'airlock_http_requests_total', { kind: 'cran', status: '200' })).toBe(
        1,
      );
      expect(value(samples, 'airlock_http_response_bytes_total', { kind: 'cran' })).toBe(size);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'close');
    }
  });
});
