/**
 * Which snapshots and blobs a bundle carries. A full bundle carries every blob of the chosen
 * snapshots; a delta (the default once a bundle exists, or --since ID) carries the complete
 * indexes of its snapshots but only the blobs that neither its parent nor the parent's
 * ancestors (back to a full bundle) carried.
 */
import { UsageError } from '../errors.js';
import type { SnapshotRef } from '../model.js';
import type { BundleInfo, BundleWorkspace, WorkspaceSnapshotInfo } from './workspace-view.js';

export interface PlannedSnapshot {
  info: WorkspaceSnapshotInfo;
  /** Counted while planning, so the index's snapshot record announces what follows it. */
  entries: number;
  bytes: number;
  /** Widest package, version and path of the snapshot, for the fixed-width contents listing. */
  widths: { package: number; version: number; path: number };
}

export interface BundlePlan {
  parent: BundleInfo | null;
  snapshots: PlannedSnapshot[];
  /** sha256 → size, in first-appearance order: the tar order of the blobs. */
  blobs: Map<string, number>;
  /** Blobs of these snapshots that an ancestor bundle already carried. */
  carried: Set<string>;
  blobsSkipped: number;
}

export interface PlanOptions {
  full?: boolean;
  since?: string;
  sources?: string[];
  snapshot?: string;
}

export function planBundle(ws: BundleWorkspace, opts: PlanOptions): BundlePlan {
  const parent = chooseParent(ws, opts);
  const chain = parent ? ancestry(ws, parent) : [];
  const carried = new Set<string>();
  const carriedSnapshots = new Set<string>();
  for (const b of chain) {
    for (const sha of ws.bundleBlobs(b.id)) carried.add(sha);
    for (const s of b.snapshots) carriedSnapshots.add(key(s));
  }
  const chosen = chooseSnapshots(ws, opts).filter(
    (s) => opts.snapshot !== undefined || !carriedSnapshots.has(key(s)),
  );
  const blobs = new Map<string, number>();
  let blobsSkipped = 0;
  const snapshots = chosen.map((info) => {
    const planned: PlannedSnapshot = {
      info,
      entries: 0,
      bytes: 0,
      widths: { package: 7, version: 7, path: 4 },
    };
    for (const e of ws.entries(info)) {
      planned.entries += 1;
      planned.bytes += e.size;
      planned.widths.package = Math.max(planned.widths.package, (e.package ?? '').length);
      planned.widths.version = Math.max(planned.widths.version, (e.version ?? '').length);
      planned.widths.path = Math.max(planned.widths.path, e.path.length);
      if (blobs.has(e.sha256)) continue;
      if (carried.has(e.sha256)) blobsSkipped += 1;
      else blobs.set(e.sha256, e.size);
    }
    return planned;
  });
  return { parent, snapshots, blobs, carried, blobsSkipped };
}

function chooseParent(ws: BundleWorkspace, opts: PlanOptions): BundleInfo | null {
  if (opts.full) {
    if (opts.since !== undefined) {
      throw new UsageError(`--full and --since ${opts.since} exclude each other`, {
        hint: '--full carries every blob; --since ID carries what bundle ID and its ancestors did not: give one of them',
      });
    }
    return null;
  }
  if (opts.since === undefined) return ws.lastBundle() ?? null;
  const parent = ws.getBundle(opts.since);
  if (!parent) {
    throw new UsageError(`--since ${opts.since}: this workspace recorded no bundle with that id`, {
      hint: '`airlock status --workspace DIR` lists the bundles made from this workspace',
    });
  }
  return parent;
}

/** The parent, its parent, … up to and including the first full bundle. */
function ancestry(ws: BundleWorkspace, parent: BundleInfo): BundleInfo[] {
  const chain: BundleInfo[] = [];
  const seen = new Set<string>();
  let at: BundleInfo | undefined = parent;
  while (at && !seen.has(at.id)) {
    chain.push(at);
    seen.add(at.id);
    at = at.full || at.parent === null ? undefined : ws.getBundle(at.parent);
  }
  return chain;
}

function chooseSnapshots(ws: BundleWorkspace, opts: PlanOptions): WorkspaceSnapshotInfo[] {
  const all = ws.listSnapshots();
  for (const name of opts.sources ?? []) {
    if (!all.some((s) => s.source === name)) {
      throw new UsageError(`--source ${name}: the workspace has no snapshot of that source`, {
        hint: 'check the name against the config, or run `airlock download` first',
      });
    }
  }
  const wanted = all
    .filter((s) => s.complete)
    .filter((s) => !opts.sources?.length || opts.sources.includes(s.source))
    .filter((s) => opts.snapshot === undefined || s.snapshot === opts.snapshot);
  if (opts.snapshot !== undefined && wanted.length === 0) {
    throw new UsageError(`--snapshot ${opts.snapshot}: no complete snapshot with that id`, {
      hint: 'finish `airlock download` for it first; `airlock status` lists the snapshots',
    });
  }
  return wanted.sort((a, b) => key(a).localeCompare(key(b)));
}

function key(s: SnapshotRef): string {
  return `${s.source}\u0000${s.snapshot}`;
}
