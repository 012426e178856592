/**
 * `airlock prune --workspace`: removes snapshots from state.db and deletes the blob files no
 * remaining snapshot references. Crash-safe order: one transaction removes the snapshots, the
 * rows of the blobs nothing references any more, and their carriage records, and lists those
 * blobs in blob_deletions; only then are the files removed, each file before its row there.
 * A prune killed at any point leaves state.db consistent, and the next prune removes the files
 * still listed (unless a download referenced one again meanwhile).
 *
 * Why the carriage records go too (bundle_blobs, and the snapshot in the bundles' lists):
 * the next delta carries only what no earlier bundle carried. A blob removed here belonged only to removed snapshots; if a later download
 * needs the same file again, it is fetched again and the next bundle carries it again, so that
 * bundle never counts on a blob the far side may have pruned in the meantime (a repository
 * that still has it just keeps its copy). Blobs of the snapshots that stay keep their records:
 * the far side must keep those snapshots at least as long (see the README's "Disk").
 */
import { unlink } from 'node:fs/promises';
import { UsageError, storageErrorFrom } from '../errors.js';
import {
  nameMatches,
  selectSnapshots,
  type DropReason,
  type RetentionRule,
  type SnapshotName,
} from '../prune/retention.js';
import type { Workspace } from './workspace.js';

export interface WorkspacePruneOptions {
  rule: RetentionRule;
  /** Report what would happen; change nothing. */
  dryRun?: boolean;
  signal?: AbortSignal;
  now?: () => Date;
  onEvent?: (event: WorkspacePruneEvent) => void;
}

export type WorkspacePruneEvent = { type: 'prune-delete'; done: number; total: number };

export interface WorkspacePruneSummary {
  dryRun: boolean;
  snapshots: {
    source: string;
    snapshot: string;
    reason: DropReason;
    complete: boolean;
    entries: number;
    bytes: number;
    /** False: no bundle made from this workspace carried it. */
    bundled: boolean;
  }[];
  /** Named snapshots that an earlier prune already removed ('source/id'). */
  alreadyPruned: string[];
  /** Blob files removed (dry run: that would be), with their bytes. */
  deleted: { blobs: number; bytes: number };
  /** Carriage records dropped: a later bundle carries these blobs again if it needs them. */
  forgottenCarriage: number;
}

class DryRun extends Error {
  constructor(readonly figures: { blobs: number; bytes: number; forgotten: number }) {
    super('dry run');
  }
}

export async function pruneWorkspace(
  ws: Workspace,
  opts: WorkspacePruneOptions,
): Promise<WorkspacePruneSummary> {
  const db = ws.database;
  const snapshots = ws.listSnapshots();
  const candidates = snapshots.map((s) => ({ ...s, eligible: s.complete }));
  const selection = selectSnapshots(candidates, opts.rule);
  const alreadyPruned = recognisePruned(ws, selection.unmatched, candidates);
  const bundled = new Set(ws.listBundles().flatMap((b) => b.snapshots.map(refKey)));
  const stamp = (opts.now ?? (() => new Date()))().toISOString();

  const removeSnapshots = db.transaction(() => {
    const record = db.prepare(
      'INSERT OR REPLACE INTO pruned_snapshots (source, snapshot, pruned_at) VALUES (?, ?, ?)',
    );
    // The blobs of the snapshots that go, before their entries go with them (ON DELETE
    // CASCADE). Only these are candidates: a blob that no entry references for another reason
    // belongs to a download that restarted its snapshot and will record it again on resume.
    db.exec('CREATE TEMP TABLE prune_candidates (sha256 TEXT PRIMARY KEY) WITHOUT ROWID');
    const candidates = db.prepare(
      `INSERT OR IGNORE INTO prune_candidates SELECT e.sha256 FROM entries e
       JOIN snapshots s ON s.id = e.snapshot_id WHERE s.source = ? AND s.snapshot = ?`,
    );
    const remove = db.prepare('DELETE FROM snapshots WHERE source = ? AND snapshot = ?');
    for (const { candidate: c } of selection.drop) {
      record.run(c.source, c.snapshot, stamp);
      candidates.run(c.source, c.snapshot);
      remove.run(c.source, c.snapshot);
    }
    forgetCarriedSnapshots(ws, new Set(selection.drop.map(({ candidate: c }) => refKey(c))));
    db.exec(`INSERT OR IGNORE INTO blob_deletions (sha256, size)
      SELECT b.sha256, b.size FROM prune_candidates c JOIN blobs b ON b.sha256 = c.sha256
      WHERE NOT EXISTS (SELECT 1 FROM entries e WHERE e.sha256 = c.sha256)`);
    db.exec('DROP TABLE prune_candidates');
    db.exec('DELETE FROM blobs WHERE sha256 IN (SELECT sha256 FROM blob_deletions)');
    const forgotten = db
      .prepare('DELETE FROM bundle_blobs WHERE sha256 IN (SELECT sha256 FROM blob_deletions)')
      .run().changes;
    const totals = db
      .prepare('SELECT count(*) AS blobs, coalesce(sum(size), 0) AS bytes FROM blob_deletions')
      .get() as { blobs: number; bytes: number };
    if (opts.dryRun) throw new DryRun({ ...totals, forgotten });
    return { ...totals, forgotten };
  });
  let figures: { blobs: number; bytes: number; forgotten: number };
  try {
    figures = removeSnapshots();
  } catch (err) {
    if (!(err instanceof DryRun)) throw err;
    figures = err.figures;
  }
  if (!opts.dryRun) await deleteListedFiles(ws, opts);
  return {
    dryRun: opts.dryRun ?? false,
    snapshots: selection.drop.map(({ candidate: c, reason }) => ({
      source: c.source,
      snapshot: c.snapshot,
      reason,
      complete: c.complete,
      entries: c.entries,
      bytes: c.bytes,
      bundled: bundled.has(refKey(c)),
    })),
    alreadyPruned,
    deleted: { blobs: figures.blobs, bytes: figures.bytes },
    forgottenCarriage: figures.forgotten,
  };
}

/**
 * The bundles' lists of the snapshots they carried lose the removed ones, so that a snapshot
 * downloaded again after a prune travels again (the far side may have pruned it too).
 */
function forgetCarriedSnapshots(ws: Workspace, removed: Set<string>): void {
  if (removed.size === 0) return;
  const rows = ws.database.prepare('SELECT id, snapshots FROM bundles').all() as {
    id: string;
    snapshots: string;
  }[];
  const update = ws.database.prepare('UPDATE bundles SET snapshots = ? WHERE id = ?');
  for (const row of rows) {
    const refs = JSON.parse(row.snapshots) as { source: string; snapshot: string }[];
    const left = refs.filter((r) => !removed.has(refKey(r)));
    if (left.length !== refs.length) update.run(JSON.stringify(left), row.id);
  }
}

function refKey(r: { source: string; snapshot: string }): string {
  return `${r.source}/${r.snapshot}`;
}

/** Removes the files blob_deletions lists, each before its row; a re-referenced blob stays. */
async function deleteListedFiles(ws: Workspace, opts: WorkspacePruneOptions): Promise<void> {
  const db = ws.database;
  const listed = db.prepare('SELECT sha256 FROM blob_deletions').pluck().all() as string[];
  const referenced = db.prepare('SELECT 1 FROM entries WHERE sha256 = ? LIMIT 1').pluck();
  const done = db.prepare('DELETE FROM blob_deletions WHERE sha256 = ?');
  const finish = db.transaction((shas: string[]) => shas.forEach((sha) => done.run(sha)));
  let batch: string[] = [];
  let count = 0;
  try {
    for (const sha of listed) {
      opts.signal?.throwIfAborted();
      // A download since a killed prune may have found the file present and used it again.
      if (referenced.get(sha) === undefined) await removeFile(ws.blobPath(sha));
      batch.push(sha);
      count += 1;
      if (batch.length === 1000) {
        finish(batch);
        batch = [];
      }
      opts.onEvent?.({ type: 'prune-delete', done: count, total: listed.length });
    }
  } finally {
    // What was removed leaves the list even when a stop or an error ends the loop.
    finish(batch);
  }
}

async function removeFile(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw storageErrorFrom(err, 'remove', path);
  }
}

function recognisePruned(
  ws: Workspace,
  unmatched: SnapshotName[],
  candidates: { source: string; snapshot: string }[],
): string[] {
  if (unmatched.length === 0) return [];
  const pruned = ws.database.prepare('SELECT source, snapshot FROM pruned_snapshots').all() as {
    source: string;
    snapshot: string;
  }[];
  const already: string[] = [];
  const unknown: string[] = [];
  for (const name of unmatched) {
    const hits = pruned.filter((p) => nameMatches(name, p.source, p.snapshot));
    if (hits.length === 0) unknown.push(name.text);
    for (const hit of hits) already.push(`${hit.source}/${hit.snapshot}`);
  }
  if (unknown.length > 0) {
    const names = candidates.map((c) => `${c.source}/${c.snapshot}`);
    throw new UsageError(
      `--snapshot ${unknown.join(', ')}: the workspace ${ws.dir} has no snapshot by that name`,
      { hint: `it has: ${names.join(', ') || 'none'} (\`airlock status --workspace\` lists them)` },
    );
  }
  return [...new Set(already)];
}
