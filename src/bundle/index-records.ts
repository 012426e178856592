/**
 * The records of a bundle's inner index (`index.ndjson`, the first tar entry): one JSON object
 * per line, in this order: one `bundle`, then each `snapshot` followed by its `entry` records,
 * then one `blob` record per blob the tar carries, in tar order. docs/bundle-format.md is the
 * normative description; these types are its TypeScript form.
 */
import type { SnapshotDescriptor, SnapshotEntry, SourceType } from '../model.js';

export const BUNDLE_FORMAT_VERSION = 1;

export interface BundleRecord {
  type: 'bundle';
  format: number;
  id: string;
  /** The bundle this one is a delta of, or null for a full bundle. */
  parent: string | null;
  createdAt: string;
  airlockVersion: string;
  full: boolean;
}

/**
 * `type` is the record type here, so the descriptor's source type travels as `sourceType`
 * (as in the repository's snapshot documents).
 */
export interface SnapshotRecord extends Omit<SnapshotDescriptor, 'type'> {
  type: 'snapshot';
  sourceType: SourceType;
  /** Entries of this snapshot in the index (all of them: indexes travel complete). */
  entries: number;
  /** Sum of the entries' sizes. */
  bytes: number;
}

export interface EntryRecord extends SnapshotEntry {
  type: 'entry';
  source: string;
  snapshot: string;
}

export interface BlobRecord {
  type: 'blob';
  sha256: string;
  size: number;
}

export type IndexRecord = BundleRecord | SnapshotRecord | EntryRecord | BlobRecord;
