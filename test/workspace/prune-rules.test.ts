/**
 * The workspace prune on a real state.db and blob store: which rows and files go, what a
 * dry run leaves, unfinished downloads, and the carriage records the next delta relies on.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SnapshotEntry } from '../../src/model.js';
import { parseRetention } from '../../src/prune/retention.js';
import { pruneWorkspace } from '../../src/workspace/prune.js';
import { Workspace } from '../../src/workspace/workspace.js';

let dir: string;
let ws: Workspace;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'airlock-prune-rules-'));
  ws = Workspace.open(dir, { lockFor: 'test', create: true });
});
afterEach(() => {
  ws.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Stores the files and records a snapshot of them; returns their sha256 by path. */
function snapshot(
  id: string,
  files: Record<string, string>,
  complete = true,
): Record<string, string> {
  const sid = ws.beginSnapshot({
    source: 'cran',
    snapshot: id,
    type: 'cran',
    requested: id,
    servedTemplate: 'cran/{snapshot}',
    variants: [''],
  });
  const shas: Record<string, string> = {};
  const entries: SnapshotEntry[] = Object.entries(files).map(([path, text]) => {
    const sha256 = createHash('sha256').update(text).digest('hex');
    const file = ws.blobPath(sha256);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    shas[path] = sha256;
    return {
      path,
      variant: '',
      role: 'package',
      sha256,
      size: text.length,
      provenance: { fetchedAt: 'x' },
    };
  });
  ws.addEntries(sid, entries);
  if (complete) ws.completeSnapshot(sid);
  return shas;
}

function counts(): Record<string, number> {
  const db = ws.database;
  const n = (table: string) => db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  return {
    snapshots: n('snapshots'),
    entries: n('entries'),
    blobs: n('blobs'),
    bundleBlobs: n('bundle_blobs'),
  };
}

describe('prune --workspace', () => {
  it('removes what only the pruned snapshot used, keeps shared files, and forgets their carriage', async () => {
    const a = snapshot('2026-11-01', { shared: 'shared bytes', own: 'only in A' });
    const b = snapshot('2026-11-02', { shared: 'shared bytes', own: 'only in B' });
    ws.recordBundle(
      {
        id: 'b1',
        parent: null,
        full: true,
        createdAt: '2026-11-02T00:00:00Z',
        snapshots: [
          { source: 'cran', snapshot: '2026-11-01' },
          { source: 'cran', snapshot: '2026-11-02' },
        ],
      },
      [a.shared!, a.own!, b.own!],
    );
    const before = counts();
    const dry = await pruneWorkspace(ws, { rule: parseRetention({ keep: 1 }), dryRun: true });
    expect(counts()).toEqual(before);
    expect(existsSync(ws.blobPath(a.own!))).toBe(true);

    const real = await pruneWorkspace(ws, { rule: parseRetention({ keep: 1 }) });
    expect({ ...dry, dryRun: false }).toEqual(real);
    expect(real).toMatchObject({
      snapshots: [{ snapshot: '2026-11-01', reason: 'keep', bundled: true }],
      deleted: { blobs: 1, bytes: 'only in A'.length },
      forgottenCarriage: 1,
    });
    expect(existsSync(ws.blobPath(a.own!))).toBe(false);
    expect(existsSync(ws.blobPath(a.shared!))).toBe(true);
    expect([...ws.bundleBlobs('b1')].sort()).toEqual([a.shared!, b.own!].sort());
    // A snapshot downloaded again after the prune must travel again.
    expect(ws.getBundle('b1')!.snapshots).toEqual([{ source: 'cran', snapshot: '2026-11-02' }]);
    expect(counts()).toMatchObject({ snapshots: 1, entries: 2, blobs: 2 });
  });

  it('leaves alone a file that no entry references for another reason (a restarted download)', async () => {
    snapshot('2026-11-01', { a: 'a' });
    const restarted = snapshot('2026-11-02', { b: 'fetched by an earlier run' });
    snapshot('2026-11-03', { c: 'c' });
    // A download that restarts a snapshot clears its entries and records them again as it goes.
    ws.database.prepare(`DELETE FROM entries WHERE path = 'b'`).run();
    const summary = await pruneWorkspace(ws, { rule: parseRetention({ keep: 1 }) });
    expect(summary.deleted.blobs).toBe(1);
    expect(existsSync(ws.blobPath(restarted.b!))).toBe(true);
  });

  it('leaves an unfinished download alone unless it is named, and keeps the newest complete one', async () => {
    snapshot('2026-11-01', { a: 'a' });
    snapshot('2026-11-02', { b: 'b' });
    const c = snapshot('2026-11-03', { c: 'half-downloaded' }, false);
    const kept = await pruneWorkspace(ws, { rule: parseRetention({ keep: 1 }) });
    expect(kept.snapshots.map((s) => s.snapshot)).toEqual(['2026-11-01']);
    expect(ws.listSnapshots().map((s) => s.snapshot)).toEqual(['2026-11-02', '2026-11-03']);
    const named = await pruneWorkspace(ws, {
      rule: parseRetention({ snapshot: ['cran/2026-11-03'] }),
    });
    expect(named.snapshots).toEqual([
      expect.objectContaining({ snapshot: '2026-11-03', complete: false, bundled: false }),
    ]);
    expect(existsSync(ws.blobPath(c.c!))).toBe(false);
  });

  it('refuses a name it never had, and recognises one it already pruned', async () => {
    snapshot('2026-11-01', { a: 'a' });
    snapshot('2026-11-02', { b: 'b' });
    await expect(
      pruneWorkspace(ws, { rule: parseRetention({ snapshot: ['cran/2025-01-01'] }) }),
    ).rejects.toMatchObject({ code: 'EUSAGE', hint: expect.stringContaining('cran/2026-11-01') });
    await pruneWorkspace(ws, { rule: parseRetention({ snapshot: ['2026-11-01'] }) });
    const again = await pruneWorkspace(ws, { rule: parseRetention({ snapshot: ['2026-11-01'] }) });
    expect(again).toMatchObject({ snapshots: [], alreadyPruned: ['cran/2026-11-01'] });
  });
});
