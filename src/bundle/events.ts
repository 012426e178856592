/** Progress events and summaries of the bundle operations; the CLI renders them. */
import type { SnapshotRef } from '../model.js';
import type { ReleaseReport } from './carried-release.js';
import type { ManifestSnapshot } from './manifest.js';

export interface PartWritten {
  name: string;
  size: number;
  sha256: string;
}

export interface BundleSummary {
  id: string;
  name: string;
  outDir: string;
  manifestPath: string;
  parent: string | null;
  full: boolean;
  snapshots: ManifestSnapshot[];
  entryCount: number;
  blobCount: number;
  blobBytes: number;
  /** Blobs of the snapshots left out because an earlier bundle already carried them. */
  blobsSkipped: number;
  totalBytes: number;
  parts: PartWritten[];
  signed: boolean;
  /** The airlock release carried beside the parts (--with-release). */
  release?: ReleaseReport;
  seconds: number;
}

export type BundleEvent =
  | {
      type: 'plan';
      parent: string | null;
      full: boolean;
      snapshots: SnapshotRef[];
      blobs: number;
      blobsSkipped: number;
    }
  | { type: 'start'; name: string; totalBytes: number; parts: number }
  | { type: 'progress'; bytes: number; totalBytes: number }
  | { type: 'part'; name: string; size: number; sha256: string }
  | { type: 'done'; summary: BundleSummary };

export type SignatureStatus = 'verified' | 'unsigned' | 'unchecked';

export interface VerifySummary {
  id: string;
  name: string;
  parent: string | null;
  full: boolean;
  parts: number;
  bytes: number;
  blobs: number;
  /** Blobs the index references that a delta leaves to its parent chain (import checks them). */
  blobsFromParent: number;
  entries: number;
  snapshots: ManifestSnapshot[];
  signature: SignatureStatus;
  /** Fingerprint of the key that verified the signature (`SHA256:…`). */
  signer?: string;
  /** What was found wrong but not fatal (a damaged SHA256SUMS beside a good bundle). */
  warnings: string[];
  /** The airlock release carried beside the parts, checked at its size and sha256. */
  release?: ReleaseReport;
  seconds: number;
}

export type VerifyEvent =
  | {
      type: 'opened';
      name: string;
      parts: number;
      totalBytes: number;
      signature: SignatureStatus;
      signer?: string;
    }
  | { type: 'part'; name: string; index: number; ok: boolean }
  | { type: 'progress'; bytes: number; totalBytes: number }
  | { type: 'done'; summary: VerifySummary };
