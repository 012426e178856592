/**
 * `airlock prune --repo` through the library, against both backends: what goes from
 * published.json, what is deleted when, and what is never touched.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBundleRecord } from '../../src/repo/bundle-record.js';
import { checkRepo } from '../../src/repo/check.js';
import { acquireImportLock } from '../../src/repo/import-lock.js';
import { blobKey, snapshotDocumentKey } from '../../src/repo/layout.js';
import { openStorage } from '../../src/repo/open-storage.js';
import { pruneRepository, type RepoPruneOptions } from '../../src/repo/prune.js';
import { readPruneRecord } from '../../src/repo/prune-record.js';
import { readPublished } from '../../src/repo/published.js';
import { repoStatus } from '../../src/repo/status.js';
import type { Storage } from '../../src/repo/storage.js';
import { parseRetention } from '../../src/prune/retention.js';
import { buildRepository } from '../helpers/repo-builder.js';
import { buildHistory, cranDescriptor, cranFiles } from './prune-repo-fixture.js';
import { repoContents } from './repo-contents.js';
import { startS3, type S3Fixture } from './s3rver-fixture.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let s3: S3Fixture;
let dir: string;
let repos = 0;

beforeAll(async () => {
  s3 = await startS3();
  dir = await mkdtemp(join(tmpdir(), 'airlock-prune-'));
}, 60_000);
afterAll(async () => {
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

const backends: [string, () => Promise<Storage>][] = [
  ['directory', async () => openStorage(join(dir, `repo${repos++}`), { create: true })],
  ['s3', async () => s3.open(`repo${repos++}`)],
];

function prune(
  storage: Storage,
  selectors: Parameters<typeof parseRetention>[0],
  extra: Partial<RepoPruneOptions> = {},
) {
  return pruneRepository({ storage, rule: parseRetention(selectors), graceMs: 0, ...extra });
}

async function has(storage: Storage, key: string): Promise<boolean> {
  return (await storage.stat(key)) !== undefined;
}

function ownBlob(history: Awaited<ReturnType<typeof buildHistory>>, date: string): string {
  return history.get(`cran/${date}`)!.entries.find((e) => e.path.includes('own_'))!.sha256;
}

describe.each(backends)('prune on %s storage', (_name, open) => {
  it('--keep 2 unpublishes the oldest cran snapshot and, with --grace 0, deletes only what nothing else uses', async () => {
    const storage = await open();
    const history = await buildHistory(storage);
    const before = (await readPublished(storage))!;
    const old = history.get('cran/2026-11-01')!;
    const shared = old.entries.find((e) => e.path.includes('shared'))!.sha256;

    const summary = await prune(storage, { keep: 2 });

    expect(summary.snapshots).toEqual([
      expect.objectContaining({ source: 'cran', snapshot: '2026-11-01', reason: 'keep' }),
    ]);
    const published = (await readPublished(storage))!;
    expect(Object.keys(published.sources.cran!.snapshots)).toEqual(['2026-11-02', '2026-11-03']);
    // pypi has one snapshot: it is its newest, and --keep never removes that.
    expect(Object.keys(published.sources.pypi!.snapshots)).toEqual(['2026-11-01']);
    expect(published.generation).toBe(before.generation + 1);
    // The old snapshot's own package and PACKAGES index and its document go; the shared one stays.
    expect(await has(storage, blobKey(ownBlob(history, '2026-11-01')))).toBe(false);
    expect(await has(storage, snapshotDocumentKey(old.document))).toBe(false);
    expect(await has(storage, blobKey(shared))).toBe(true);
    expect(summary.deleted).toMatchObject({ blobs: 2, documents: 1 });
    expect(summary.waiting).toMatchObject({ blobs: 0, documents: 0 });
    expect(await checkRepo(storage, { deep: true })).toMatchObject({ ok: true, snapshots: 3 });
    expect((await readPruneRecord(storage))!.pending).toEqual({});
    await storage.close();
  });

  it('--dry-run reports exactly what the real run then does, and changes nothing', async () => {
    const storage = await open();
    await buildHistory(storage);
    const contents = await repoContents(storage);
    const dry = await prune(storage, { keep: 1 }, { dryRun: true });
    expect(await repoContents(storage)).toEqual(contents);
    const real = await prune(storage, { keep: 1 });
    expect({ ...dry, dryRun: true, generation: 0 }).toEqual({
      ...real,
      dryRun: true,
      generation: 0,
    });
    expect(real.snapshots.map((s) => s.snapshot)).toEqual(['2026-11-01', '2026-11-02']);
    // Two own packages, two PACKAGES indexes, two documents; the byte count is theirs.
    expect(real.deleted).toMatchObject({ blobs: 4, documents: 2 });
    expect(real.deleted.bytes).toBeGreaterThan(2 * 1100);
    await storage.close();
  });

  it('keeps unreferenced files through the grace period, then a later prune deletes them', async () => {
    const storage = await open();
    const history = await buildHistory(storage);
    const t0 = new Date('2026-11-04T02:00:00Z');
    const own = blobKey(ownBlob(history, '2026-11-01'));

    const first = await prune(storage, { keep: 2 }, { graceMs: DAY, now: () => t0 });
    expect(first.deleted).toMatchObject({ blobs: 0, documents: 0, bytes: 0 });
    expect(first.waiting).toMatchObject({ blobs: 2, documents: 1 });
    expect(first.waiting.nextDueAt).toBe(new Date(t0.getTime() + DAY).toISOString());
    // Unpublished at once, but still there for servers and clients that were told of it.
    expect(await has(storage, own)).toBe(true);
    expect((await readPruneRecord(storage))!.pending[own]).toMatchObject({
      since: t0.toISOString(),
    });

    expect((await repoStatus(storage)).pendingDeletion).toMatchObject({
      blobs: 2,
      documents: 1,
      bytes: first.waiting.bytes,
      oldestSince: t0.toISOString(),
    });

    const soon = await prune(
      storage,
      { keep: 2 },
      { graceMs: DAY, now: () => new Date(t0.getTime() + 23 * HOUR) },
    );
    expect(soon.deleted.blobs).toBe(0);
    expect(await has(storage, own)).toBe(true);

    const later = await prune(
      storage,
      { keep: 2 },
      { graceMs: DAY, now: () => new Date(t0.getTime() + 25 * HOUR) },
    );
    expect(later.snapshots).toEqual([]);
    expect(later.deleted).toMatchObject({ blobs: 2, documents: 1 });
    expect(await has(storage, own)).toBe(false);
    expect(await checkRepo(storage, { deep: true })).toMatchObject({ ok: true });
    await storage.close();
  });

  it('never deletes a pending blob that an import referenced again meanwhile', async () => {
    const storage = await open();
    const history = await buildHistory(storage);
    const t0 = new Date('2026-11-04T02:00:00Z');
    const own = blobKey(ownBlob(history, '2026-11-01'));
    await prune(storage, { keep: 2 }, { graceMs: DAY, now: () => t0 });
    // An import publishes a snapshot holding the same file: the importer finds the blob
    // present and does not write it again.
    await buildRepository(storage, [
      { descriptor: cranDescriptor('2026-11-04'), files: cranFiles('2026-11-01') },
    ]);
    const later = await prune(
      storage,
      { keep: 5 },
      { graceMs: DAY, now: () => new Date(t0.getTime() + 2 * DAY) },
    );
    expect(await has(storage, own)).toBe(true);
    expect((await readPruneRecord(storage))!.pending[own]).toBeUndefined();
    // The old document is still unreferenced and goes.
    expect(later.deleted.documents).toBe(1);
    expect(await checkRepo(storage, { deep: true })).toMatchObject({ ok: true });
    await storage.close();
  });

  it('a blob unreferenced again after being re-referenced starts a new grace period', async () => {
    const storage = await open();
    const history = await buildHistory(storage);
    const t0 = new Date('2026-11-04T02:00:00Z');
    const own = blobKey(ownBlob(history, '2026-11-01'));
    await prune(storage, { keep: 2 }, { graceMs: DAY, now: () => t0 });
    await buildRepository(storage, [
      { descriptor: cranDescriptor('2026-11-04'), files: cranFiles('2026-11-01') },
    ]);
    const t1 = new Date(t0.getTime() + 2 * DAY);
    await prune(storage, { snapshot: ['cran/2026-11-04'] }, { graceMs: DAY, now: () => t1 });
    expect(await has(storage, own)).toBe(true);
    expect((await readPruneRecord(storage))!.pending[own]!.since).toBe(t1.toISOString());
    await storage.close();
  });

  it('a pending snapshot published again and replaced between two prunes starts a new grace period', async () => {
    const storage = await open();
    const history = await buildHistory(storage);
    const old = history.get('cran/2026-11-01')!;
    const t0 = new Date('2026-11-04T02:00:00Z');
    await prune(storage, { snapshot: ['cran/2026-11-01'] }, { graceMs: DAY, now: () => t0 });
    // An import carries the same snapshot again (the same bytes: the same document)...
    const again = await buildRepository(
      storage,
      [{ descriptor: cranDescriptor('2026-11-01'), files: cranFiles('2026-11-01') }],
      { bundleId: 'carried-again' },
    );
    expect(again[0]!.document).toBe(old.document);
    await writeBundleRecord(storage, {
      format: 1,
      id: 'carried-again',
      parent: null,
      full: true,
      createdAt: t0.toISOString(),
      importedAt: t0.toISOString(),
      signature: 'unsigned',
      snapshots: [{ source: 'cran', snapshot: '2026-11-01', document: old.document }],
      manifest: {},
    });
    // ...and a later import replaces it, all before the next prune.
    const files = cranFiles('2026-11-01');
    files[2] = { ...files[2]!, bytes: 'replacement '.repeat(30) };
    await buildRepository(storage, [{ descriptor: cranDescriptor('2026-11-01'), files }]);

    const t1 = new Date(t0.getTime() + 2 * DAY);
    await prune(storage, { keep: 5 }, { graceMs: DAY, now: () => t1 });
    // Served between the two prunes: not deleted yet, its grace period starts at t1.
    expect(await has(storage, snapshotDocumentKey(old.document))).toBe(true);
    const own = blobKey(ownBlob(history, '2026-11-01'));
    expect(await has(storage, own)).toBe(true);
    const pending = (await readPruneRecord(storage))!.pending;
    expect(pending[snapshotDocumentKey(old.document)]!.since).toBe(t1.toISOString());
    expect(pending[own]!.since).toBe(t1.toISOString());
    await storage.close();
  });

  it('collects documents a re-import replaced, and what a failed import left unreferenced', async () => {
    const storage = await open();
    const history = await buildHistory(storage);
    const replaced = history.get('cran/2026-11-03')!.document;
    const files = cranFiles('2026-11-03');
    files[2] = { ...files[2]!, bytes: 'corrected bytes '.repeat(20) };
    await buildRepository(storage, [{ descriptor: cranDescriptor('2026-11-03'), files }]);
    await storage.write(blobKey('ab'.repeat(32)), 'left by a failed import');

    const summary = await prune(storage, { keep: 3 });
    expect(summary.snapshots).toEqual([]);
    expect(await has(storage, snapshotDocumentKey(replaced))).toBe(false);
    expect(await has(storage, blobKey('ab'.repeat(32)))).toBe(false);
    expect(await has(storage, blobKey(ownBlob(history, '2026-11-03')))).toBe(false);
    expect(await checkRepo(storage, { deep: true })).toMatchObject({ ok: true, snapshots: 4 });
    await storage.close();
  });

  it('--before keeps the newest snapshot of each source; naming removes even that one', async () => {
    const storage = await open();
    await buildHistory(storage);
    const before = await prune(storage, { before: '2026-12-01' });
    expect(before.snapshots.map((s) => `${s.source}/${s.snapshot}`)).toEqual([
      'cran/2026-11-01',
      'cran/2026-11-02',
    ]);
    const named = await prune(storage, { snapshot: ['pypi/2026-11-01'] });
    expect(named.snapshots).toEqual([
      expect.objectContaining({ source: 'pypi', snapshot: '2026-11-01', reason: 'named' }),
    ]);
    const published = (await readPublished(storage))!;
    // A source with nothing left is no longer served.
    expect(Object.keys(published.sources)).toEqual(['cran']);
    // Running the same command again finds it already done.
    const again = await prune(storage, { snapshot: ['pypi/2026-11-01'] });
    expect(again).toMatchObject({ snapshots: [], alreadyPruned: ['pypi/2026-11-01'] });
    expect(await checkRepo(storage, { deep: true })).toMatchObject({ ok: true, snapshots: 1 });
    await storage.close();
  });

  it('refuses a name that matches no snapshot, and a repository that does not exist yet', async () => {
    const storage = await open();
    await expect(prune(storage, { keep: 1 })).rejects.toMatchObject({
      code: 'EUSAGE',
      message: expect.stringContaining('is not an airlock repository'),
    });
    await buildHistory(storage);
    await expect(prune(storage, { snapshot: ['cran/2026-10-01'] })).rejects.toMatchObject({
      code: 'EUSAGE',
      hint: expect.stringContaining('cran/2026-11-01'),
    });
    await storage.close();
  });

  it('runs under the import lock: refused while an import holds it', async () => {
    const storage = await open();
    await buildHistory(storage);
    const lock = await acquireImportLock(storage);
    try {
      await expect(prune(storage, { keep: 1 })).rejects.toMatchObject({ code: 'ELOCKED' });
      // A dry run only reads: it works beside an import.
      await expect(prune(storage, { keep: 1 }, { dryRun: true })).resolves.toMatchObject({
        dryRun: true,
      });
    } finally {
      await lock.release();
    }
    await storage.close();
  });
});
