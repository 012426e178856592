/**
 * Servers and `airlock prune --repo`: a server holding an older published.json keeps serving
 * what it was told of through the grace period; with no grace period, a file or document
 * deleted under it is a 404 for a snapshot that is gone, never a 500 or 503.
 */
import { request } from 'undici';
import { afterEach, describe, expect, test } from 'vitest';
import { pruneRepository } from '../../src/repo/prune.js';
import { parseRetention } from '../../src/prune/retention.js';
import type { RunningServer } from '../../src/serve/server.js';
import { createHarness, type Harness } from './serve-harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

async function get(server: RunningServer, path: string) {
  const res = await request(`${server.url}${path}`);
  return { status: res.statusCode, text: await res.body.text() };
}

/** A package both snapshots hold: requesting it builds the snapshot's index in a server. */
function shared(harness: Harness): string {
  const file = harness.catalog.sources.cran.snapshots['2026-11-01']!.files.find((f) =>
    f.urlPath.endsWith('.tar.gz'),
  )!;
  return `/${file.urlPath}`;
}

/** A file of cran 2026-11-01 that 2026-11-15 does not hold (its own blob): PACKAGES.gz. */
function onlyInFirst(harness: Harness): string {
  const cran = harness.catalog.sources.cran.snapshots;
  const later = new Set(cran['2026-11-15']!.files.map((f) => f.sha256));
  const file = cran['2026-11-01']!.files.find(
    (f) => f.urlPath.endsWith('/PACKAGES.gz') && !later.has(f.sha256),
  )!;
  return `/${file.urlPath}`;
}

function pruneFirst(harness: Harness, graceMs: number) {
  return pruneRepository({
    storage: harness.storage,
    rule: parseRetention({ snapshot: ['2026-11-01'] }),
    graceMs,
  });
}

describe('serving while a prune removes a snapshot', () => {
  test('within the grace period a server that has not yet seen the prune serves every file it lists', async () => {
    h = await createHarness();
    const path = onlyInFirst(h);
    const stale = await h.start({ refreshMs: 3_600_000 });
    expect((await get(stale, shared(h))).status).toBe(200);
    await pruneFirst(h, 24 * 3_600_000);
    expect((await get(stale, path)).status).toBe(200);
    const fresh = await h.start({ refreshMs: 10 });
    expect((await get(fresh, path)).status).toBe(404);
    expect((await get(fresh, '/cran/latest/src/contrib/PACKAGES')).status).toBe(200);
  });

  test('with --grace 0, a deleted file or document of a pruned snapshot is a 404, not a server error', async () => {
    h = await createHarness();
    const path = onlyInFirst(h);
    // One server indexed the snapshot before the prune, the other never did: the first finds
    // the file's blob gone, the second the snapshot document.
    const indexed = await h.start({ refreshMs: 3_600_000 });
    const unindexed = await h.start({ refreshMs: 3_600_000 });
    expect((await get(indexed, shared(h))).status).toBe(200);
    await pruneFirst(h, 0);
    for (const server of [indexed, unindexed]) {
      const res = await get(server, path);
      expect(res.status, res.text).toBe(404);
      expect(res.text).toContain('no longer published');
    }
    expect((await get(unindexed, '/pypi/2026-11-01/simple/')).status).toBe(404);
    expect((await get(indexed, '/cran/latest/src/contrib/PACKAGES')).status).toBe(200);
    expect((await get(indexed, '/healthz')).status).toBe(200);
  });
});
