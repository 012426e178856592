/**
 * What `writeBundle` needs from a workspace, and nothing more. The workspace (state.db and its
 * blob store, src/workspace/) implements it; tests use an in-memory implementation over real
 * blob files.
 */
import type { SnapshotDescriptor, SnapshotEntry, SnapshotRef } from '../model.js';

export interface WorkspaceSnapshotInfo extends SnapshotDescriptor {
  /** Only complete snapshots (every file downloaded and verified) may travel. */
  complete: boolean;
  entries: number;
  bytes: number;
  createdAt: string;
}

/** A bundle the workspace recorded as complete: the basis of later deltas. */
export interface BundleInfo {
  id: string;
  parent: string | null;
  full: boolean;
  createdAt: string;
  snapshots: SnapshotRef[];
}

export interface BundleWorkspace {
  listSnapshots(): WorkspaceSnapshotInfo[];
  /** Every entry of a snapshot, sorted by path, then variant. */
  entries(ref: SnapshotRef): Iterable<SnapshotEntry>;
  /** The file holding a blob's bytes. */
  blobPath(sha256: string): string;
  /** The newest complete bundle, if any. */
  lastBundle(): BundleInfo | undefined;
  getBundle(id: string): BundleInfo | undefined;
  /** The blobs a recorded bundle carried. */
  bundleBlobs(id: string): Iterable<string>;
  /** Called only once the bundle is complete on disk (its manifest renamed into place). */
  recordBundle(info: BundleInfo, blobs: Iterable<string>): void;
}
