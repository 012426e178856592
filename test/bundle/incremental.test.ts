import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BundleSummary } from '../../src/bundle/events.js';
import type { IndexRecord } from '../../src/bundle/index-records.js';
import { openBundle } from '../../src/bundle/open.js';
import { readBundle } from '../../src/bundle/read.js';
import { writeBundle, type WriteBundleOptions } from '../../src/bundle/write.js';
import { randomFile } from '../helpers/memory-bundle-workspace.js';
import { addFirstSnapshot, caught, makeFixture, type Fixture } from './bundle-fixture.js';

let fx: Fixture;
beforeEach(async () => {
  fx = await makeFixture();
  await addFirstSnapshot(fx.ws);
});
afterEach(() => fx.cleanup());

async function bundle(extra: Partial<WriteBundleOptions> = {}): Promise<BundleSummary> {
  const result = await writeBundle({
    workspace: fx.ws,
    outDir: fx.out,
    airlockVersion: 't',
    ...extra,
  });
  if ('nothingNew' in result) throw new Error(result.reason);
  return result;
}

/** A second snapshot sharing three files with the first and adding two. */
async function addSecondSnapshot(): Promise<string[]> {
  const first = [...fx.ws.entries({ source: 'cran', snapshot: '2026-11-01' })];
  const kept = first.filter((e) => e.package !== 'c');
  const { readFile } = await import('node:fs/promises');
  const files = await Promise.all(
    kept.map(async (e) => ({ path: e.path, bytes: await readFile(fx.ws.blobPath(e.sha256)) })),
  );
  const added = [
    { path: 'src/contrib/d_1.0.tar.gz', bytes: randomFile(5000), package: 'd', version: '1.0' },
    { path: 'src/contrib/PACKAGES.gz', bytes: randomFile(300), role: 'index' as const },
  ];
  const entries = await fx.ws.addSnapshot({ source: 'cran', snapshot: '2026-11-02' }, [
    ...files,
    ...added,
  ]);
  return entries.filter((e) => added.some((a) => a.path === e.path)).map((e) => e.sha256);
}

async function contentsOf(
  manifestPath: string,
): Promise<{ records: IndexRecord[]; blobs: string[] }> {
  const records: IndexRecord[] = [];
  const blobs: string[] = [];
  await readBundle(await openBundle(manifestPath), {
    onRecord: (r) => void records.push(r),
    onBlob: async (r, body) => {
      for await (const _ of body) void _;
      blobs.push(r.sha256);
    },
  });
  return { records, blobs };
}

describe('incremental bundles', () => {
  it('carries the complete index of the new snapshot but only its new blobs, and names its parent', async () => {
    const first = await bundle();
    const newBlobs = await addSecondSnapshot();
    const delta = await bundle();
    expect(delta).toMatchObject({ parent: first.id, full: false, blobCount: 2, blobsSkipped: 3 });
    expect(delta.snapshots.map((s) => s.snapshot)).toEqual(['2026-11-02']);
    const { records, blobs } = await contentsOf(delta.manifestPath);
    expect(blobs.sort()).toEqual([...newBlobs].sort());
    expect(records[0]).toMatchObject({ type: 'bundle', parent: first.id, full: false });
    expect(records.filter((r) => r.type === 'entry')).toHaveLength(5);
    expect(fx.ws.bundles.map((b) => b.info.parent)).toEqual([null, first.id]);
  });

  it('leaves out blobs carried anywhere in the parent chain, back to the full bundle', async () => {
    await bundle();
    await addSecondSnapshot();
    const second = await bundle();
    const shared = randomFile(1234);
    await fx.ws.addSnapshot({ source: 'cran', snapshot: '2026-11-03' }, [
      {
        path: 'src/contrib/PACKAGES',
        bytes: Buffer.from('Package: a\nVersion: 1.0\n'),
        role: 'index',
      }, // carried by the first
      { path: 'src/contrib/e_1.tar.gz', bytes: shared },
    ]);
    const third = await bundle();
    expect(third).toMatchObject({ parent: second.id, blobCount: 1, blobsSkipped: 1 });
  });

  it('with --full carries every blob again and has no parent', async () => {
    await bundle();
    await addSecondSnapshot();
    const full = await bundle({ full: true });
    expect(full).toMatchObject({ parent: null, full: true, blobCount: 6 });
    expect(full.snapshots.map((s) => s.snapshot)).toEqual(['2026-11-01', '2026-11-02']);
  });

  it('with --since ID takes that bundle as the parent', async () => {
    const first = await bundle();
    await addSecondSnapshot();
    await bundle();
    const again = await bundle({ since: first.id, snapshot: '2026-11-02' });
    expect(again).toMatchObject({ parent: first.id, blobCount: 2 });
  });

  it('re-carries an already carried snapshot only when named with --snapshot, without its blobs', async () => {
    await bundle();
    expect(
      await writeBundle({ workspace: fx.ws, outDir: fx.out, airlockVersion: 't' }),
    ).toHaveProperty('nothingNew', true);
    const index = await bundle({ snapshot: '2026-11-01' });
    expect(index).toMatchObject({ blobCount: 0, entryCount: 4 });
  });

  it('chooses snapshots with --source and refuses an unknown source or --since id', async () => {
    await fx.ws.addSnapshot(
      { source: 'pypi', snapshot: '2026-11-01' },
      [{ path: 'x/', bytes: Buffer.from('{}'), role: 'index' }],
      'pypi',
    );
    const only = await bundle({ sources: ['pypi'] });
    expect(only.snapshots.map((s) => s.source)).toEqual(['pypi']);
    expect(await caught(() => bundle({ sources: ['nope'] }))).toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('--source nope'),
    });
    expect(await caught(() => bundle({ since: '20260101T000000Z-abcdef' }))).toMatchObject({
      exitCode: 2,
    });
  });

  it('leaves incomplete snapshots out', async () => {
    await fx.ws.addSnapshot(
      { source: 'cran', snapshot: '2026-11-05' },
      [{ path: 'a', bytes: randomFile(10) }],
      'cran',
      false,
    );
    const first = await bundle();
    expect(first.snapshots.map((s) => s.snapshot)).toEqual(['2026-11-01']);
  });
});
