/**
 * `airlock import`: verifies a bundle and loads it into a repository in one pass over its
 * parts, then publishes its snapshots atomically. Order of writes (docs/repository-layout.md):
 * blobs → snapshot documents → published.json → bundles/<id>.json. Every step is idempotent
 * (blobs and documents are content-addressed, published.json is left alone when it already says
 * the same), so after a crash at any point the same command finishes the job.
 */
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { openBundle } from '../bundle/open.js';
import { releaseReport, type ReleaseReport } from '../bundle/carried-release.js';
import { readBundle } from '../bundle/read.js';
import { BlobSink } from './blob-sink.js';
import {
  hasBundleRecord,
  readBundleRecord,
  writeBundleRecord,
  type SignatureState,
} from './bundle-record.js';
import { acquireImportLock, type HeldLock, type LockEvent } from './import-lock.js';
import { IndexCollector } from './index-collector.js';
import { makeImportTempDir } from './import-temp.js';
import { REPOSITORY_FORMAT, snapshotDocumentKey } from './layout.js';
import { missingParentError } from './parent-order.js';
import { publishSnapshots } from './publish.js';
import { repairFromBundle, type RepairEvent, type RepairResult } from './repair.js';
import { requireImportSpace } from './import-space.js';
import { ensureRepositoryConfig, readRepositoryConfig } from './repository-config.js';
import type { Storage } from './storage.js';
import { planImportTrust, recordFirstKey } from './trusted-keys.js';

export interface ImportOptions {
  manifestPath: string;
  storage: Storage;
  /**
   * Public key file (PEM) the bundle's signature must verify against. Recorded as the
   * repository's trusted key on its first import; later, it must be one of the recorded keys.
   */
  trust?: string;
  /** Let an unsigned bundle, or one signed by a key the repository does not trust, through. */
  allowUnsigned?: boolean;
  /**
   * For a bundle already imported: check the repository's copies of the blobs and documents it
   * carries and rewrite the missing or damaged ones (repair.ts). Otherwise a plain import.
   */
  repair?: boolean;
  /** Wait for another import to finish instead of failing with ELOCKED. */
  wait?: boolean;
  onEvent?: (event: ImportEvent) => void;
  signal?: AbortSignal;
}

/** What an import's trust check found, reported on every import (also an already-imported one). */
export interface TrustReport {
  /** The repository trusts no key: the bundle was accepted whatever its signature. */
  open: boolean;
  /** Fingerprints of the keys the repository trusts after this import. */
  trustedKeys: string[];
  /** Fingerprint of the key that verified the bundle's signature. */
  signer: string | null;
  /** The `--trust` key this (first) import recorded. */
  recorded: string | null;
  /** The bundle passed only because of --allow-unsigned. */
  allowedUnsigned: boolean;
}

export type ImportEvent =
  | LockEvent
  | Exclude<RepairEvent, { type: 'progress' }>
  | ({ type: 'trust' } & TrustReport)
  | { type: 'cleanup'; removed: number }
  | {
      type: 'bundle';
      id: string;
      parent: string | null;
      full: boolean;
      signature: SignatureState;
      totalBytes: number;
    }
  | { type: 'already-imported'; id: string; importedAt: string }
  | { type: 'progress'; bytesRead: number; totalBytes: number }
  | { type: 'blob'; sha256: string; size: number; stored: boolean }
  | {
      type: 'snapshot-document';
      source: string;
      snapshot: string;
      document: string;
      entries: number;
      bytes: number;
    }
  | { type: 'published'; generation: number; changed: boolean };

export interface ImportSummary {
  repaired?: undefined;
  alreadyImported: false;
  id: string;
  parent: string | null;
  full: boolean;
  signature: SignatureState;
  blobsStored: number;
  blobsPresent: number;
  bytesStored: number;
  bytesRead: number;
  snapshots: {
    source: string;
    snapshot: string;
    document: string;
    entries: number;
    bytes: number;
  }[];
  generation: number;
  /** Leftovers of killed imports removed before this one started. */
  cleanedUp: number;
  trust: TrustReport;
  /** What was found wrong but not fatal (a damaged SHA256SUMS beside a good bundle). */
  warnings: string[];
  /** The airlock release the bundle carries, checked at its size and sha256. */
  release?: ReleaseReport;
}

export interface Repaired extends RepairResult {
  repaired: true;
  alreadyImported: true;
  id: string;
  importedAt: string;
  trust: TrustReport;
  warnings: string[];
}

export interface AlreadyImported {
  repaired?: undefined;
  alreadyImported: true;
  id: string;
  importedAt: string;
  trust: TrustReport;
  warnings: string[];
}

export type ImportResult = ImportSummary | AlreadyImported | Repaired;

export async function importBundle(opts: ImportOptions): Promise<ImportResult> {
  const { storage, onEvent } = opts;
  const lock = await acquireImportLock(storage, {
    ...(opts.wait === undefined ? {} : { wait: opts.wait }),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(onEvent ? { onEvent } : {}),
  });
  try {
    const cleanedUp = (await storage.abandonPartialWrites?.()) ?? 0;
    if (cleanedUp > 0) onEvent?.({ type: 'cleanup', removed: cleanedUp });
    return await importLocked(opts, cleanedUp, lock);
  } finally {
    await lock.release();
  }
}

async function importLocked(
  opts: ImportOptions,
  cleanedUp: number,
  lock: HeldLock,
): Promise<ImportResult> {
  const { storage, onEvent } = opts;
  // Read the policy, but create the repository's config only once the bundle opened: a typo in
  // the manifest path must not turn an empty directory into a repository.
  const trust = await planImportTrust(storage, await readRepositoryConfig(storage), {
    ...(opts.trust === undefined ? {} : { trust: opts.trust }),
    ...(opts.allowUnsigned === undefined ? {} : { allowUnsigned: opts.allowUnsigned }),
  });
  const bundle = await openBundle(opts.manifestPath, {
    trustedKeys: trust.checkKeys,
    keysFrom: trust.keysFrom,
    allowUnsigned: opts.allowUnsigned === true,
    overrideHint: '; only if you must import it without a trusted signature, give --allow-unsigned',
  });
  const { manifest } = bundle;
  const previous = await readBundleRecord(storage, manifest.id);
  // Before anything is written (the repository's config included): a full disk must leave the
  // location as it was. A bundle already imported writes nothing, so it needs no room.
  if (!previous) await requireImportSpace(storage, manifest);
  await ensureRepositoryConfig(storage, undefined, trust.record ? [trust.record.pem] : []);
  if (trust.record) await recordFirstKey(storage, trust.record);
  const trustKeys = trust.record
    ? [trust.record.fingerprint]
    : trust.keys.map((k) => k.fingerprint);
  const report: TrustReport = {
    open: trustKeys.length === 0 && !trust.requireSignature,
    trustedKeys: trustKeys,
    signer: bundle.signer ?? null,
    recorded: trust.record?.fingerprint ?? null,
    allowedUnsigned: trust.checkKeys.length > 0 && bundle.signature !== 'verified',
  };
  onEvent?.({ type: 'trust', ...report });
  if (previous && opts.repair) {
    const repaired = await repairFromBundle(storage, bundle, {
      ...(opts.signal ? { signal: opts.signal } : {}),
      onEvent: (e) =>
        onEvent?.(
          e.type === 'progress'
            ? { type: 'progress', bytesRead: e.bytesRead, totalBytes: e.totalBytes }
            : e,
        ),
    });
    return {
      repaired: true,
      alreadyImported: true,
      id: manifest.id,
      importedAt: previous.importedAt,
      trust: report,
      warnings: bundle.sumsWarnings,
      ...repaired,
    };
  }
  if (previous) {
    onEvent?.({ type: 'already-imported', id: manifest.id, importedAt: previous.importedAt });
    return {
      alreadyImported: true,
      id: manifest.id,
      importedAt: previous.importedAt,
      trust: report,
      warnings: bundle.sumsWarnings,
    };
  }
  if (manifest.parent !== null && !(await hasBundleRecord(storage, manifest.parent))) {
    throw await missingParentError(storage, opts.manifestPath, manifest.id, manifest.parent);
  }
  onEvent?.({
    type: 'bundle',
    id: manifest.id,
    parent: manifest.parent,
    full: manifest.full,
    signature: bundle.signature,
    totalBytes: manifest.totalBytes,
  });

  const tempDir = await makeImportTempDir();
  const collector = new IndexCollector(manifest, tempDir);
  try {
    const sink = new BlobSink(storage, {
      parallel: storage.parallelWrites ?? 1,
      onBlob: (sha256, size, stored) => onEvent?.({ type: 'blob', sha256, size, stored }),
    });
    const read = await readBundle(
      bundle,
      {
        onRecord: (record) => collector.add(record),
        onIndexEnd: (content) => collector.finish(storage, content),
        // The reader hands over only blobs the index lists, in its order, each verified.
        onBlob: (record, body) => sink.put(record.sha256, record.size, body),
        onProgress: (bytesRead, totalBytes) =>
          onEvent?.({ type: 'progress', bytesRead, totalBytes }),
      },
      { scratchDir: tempDir, ...(opts.signal ? { signal: opts.signal } : {}) },
    );
    // Every blob written and its name durable (BlobSink defers the directory fsyncs to here).
    await sink.flush();

    // Documents only after every blob is in: a published document never names a missing blob.
    for (const doc of collector.documents) {
      const key = snapshotDocumentKey(doc.sha256);
      if ((await storage.stat(key))?.size !== doc.size) {
        await storage.writeStream(key, createReadStream(doc.file), doc.size);
      }
      const d = doc.header.descriptor;
      onEvent?.({
        type: 'snapshot-document',
        source: d.source,
        snapshot: d.snapshot,
        document: doc.sha256,
        entries: doc.header.entries,
        bytes: doc.header.bytes,
      });
    }
    const snapshots = collector.documents.map((doc) => ({
      descriptor: doc.header.descriptor,
      document: doc.sha256,
      entries: doc.header.entries,
      bytes: doc.header.bytes,
    }));
    // Publishing is the one step two importers must never both do: stop if the lock was lost.
    lock.throwIfLost();
    const published = await publishSnapshots(storage, manifest.id, snapshots);
    onEvent?.({ type: 'published', ...published });

    const summarySnapshots = snapshots.map((s) => ({
      source: s.descriptor.source,
      snapshot: s.descriptor.snapshot,
      document: s.document,
      entries: s.entries,
      bytes: s.bytes,
    }));
    await writeBundleRecord(storage, {
      format: REPOSITORY_FORMAT,
      id: manifest.id,
      parent: manifest.parent,
      full: manifest.full,
      createdAt: manifest.createdAt,
      importedAt: new Date().toISOString(),
      signature: bundle.signature,
      snapshots: summarySnapshots.map(({ source, snapshot, document }) => ({
        source,
        snapshot,
        document,
      })),
      manifest,
    });
    return {
      alreadyImported: false,
      id: manifest.id,
      parent: manifest.parent,
      full: manifest.full,
      signature: bundle.signature,
      blobsStored: sink.stored,
      blobsPresent: sink.present,
      bytesStored: sink.bytesStored,
      bytesRead: read.bytes,
      snapshots: summarySnapshots,
      generation: published.generation,
      cleanedUp,
      trust: report,
      warnings: bundle.sumsWarnings,
      ...(manifest.release ? { release: releaseReport(manifest.release) } : {}),
    };
  } finally {
    await rm(tempDir, { recursive: true, force: true });
  }
}
