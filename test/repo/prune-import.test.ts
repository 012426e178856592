/**
 * A real import meeting a prune's grace period, on both backends: the delta leaves out the
 * files its parent carried, and finds them present though a prune has them waiting for
 * deletion; the next prune then keeps them, because a published snapshot uses them again.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRepo } from '../../src/repo/check.js';
import { importBundle } from '../../src/repo/import.js';
import { blobKey } from '../../src/repo/layout.js';
import { openStorage } from '../../src/repo/open-storage.js';
import { pruneRepository } from '../../src/repo/prune.js';
import { readPruneRecord } from '../../src/repo/prune-record.js';
import type { Storage } from '../../src/repo/storage.js';
import { parseRetention } from '../../src/prune/retention.js';
import { makeBundleChain, type BundleChain } from './bundle-fixture.js';
import { startS3, type S3Fixture } from './s3rver-fixture.js';

const DAY = 86_400_000;
let s3: S3Fixture;
let dir: string;
let chain: BundleChain;
let repos = 0;

beforeAll(async () => {
  s3 = await startS3();
  dir = await mkdtemp(join(tmpdir(), 'airlock-prune-import-'));
  chain = await makeBundleChain(dir);
}, 60_000);
afterAll(async () => {
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

const backends: [string, () => Promise<Storage>][] = [
  ['directory', async () => openStorage(join(dir, `repo${repos++}`), { create: true })],
  ['s3', async () => s3.open(`repo${repos++}`)],
];

function blobOf(snapshot: string, path: string): string {
  const file = chain.files.get(snapshot)!.find((f) => f.path === path)!;
  return blobKey(createHash('sha256').update(file.bytes).digest('hex'));
}

describe.each(backends)('prune and import on %s storage', (_name, open) => {
  it('an import uses a blob that waits for deletion; the next prune keeps it', async () => {
    const storage = await open();
    await importBundle({ manifestPath: chain.full.manifestPath, storage });
    const t0 = new Date();
    const first = await pruneRepository({
      storage,
      rule: parseRetention({ snapshot: ['cran/2026-11-01'] }),
      graceMs: DAY,
      now: () => t0,
    });
    const shared = blobOf('cran/2026-11-01', 'src/contrib/beta_2.1.tar.gz');
    const oldIndex = blobOf('cran/2026-11-01', 'src/contrib/PACKAGES');
    expect(Object.keys((await readPruneRecord(storage))!.pending)).toEqual(
      expect.arrayContaining([shared, oldIndex]),
    );
    expect(first.waiting.blobs).toBe(4);

    // The delta does not carry beta (its parent did): the importer finds it present.
    const imported = await importBundle({ manifestPath: chain.delta.manifestPath, storage });
    expect(imported).toMatchObject({ alreadyImported: false });

    const later = await pruneRepository({
      storage,
      rule: parseRetention({ keep: 5 }),
      graceMs: DAY,
      now: () => new Date(t0.getTime() + 2 * DAY),
    });
    // Only the old PACKAGES goes (and the pruned snapshot's document); beta, alpha 1.0 and
    // gamma are used by the delta's snapshot.
    expect(later.deleted).toMatchObject({ blobs: 1, documents: 1 });
    expect(await storage.stat(oldIndex)).toBeUndefined();
    expect(await storage.stat(shared)).toBeDefined();
    expect((await readPruneRecord(storage))!.pending).toEqual({});
    expect(await checkRepo(storage, { deep: true })).toMatchObject({ ok: true, snapshots: 2 });
    await storage.close();
  });
});
