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
import { readBundle } from '../bundle/read.js';
import { IntegrityError } from '../errors.js';
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
import { ensureRepositoryConfig, readRepositoryConfig } from './repository-config.js';
import type { Storage } from './storage.js';

const DEFAULT_CONFIG = { policy: { requireSignature: false, trustedKeys: [] as string[] } };

export interface ImportOptions {
  manifestPath: string;
  storage: Storage;
  /** Public key file (PEM) the bundle's signature must verify against. */
  trust?: string;
  /** Wait for another import to finish instead of failing with ELOCKED. */
  wait?: boolean;
  onEvent?: (event: ImportEvent) => void;
  signal?: AbortSignal;
}

export type ImportEvent =
  | LockEvent
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
}

export interface AlreadyImported {
  alreadyImported: true;
  id: string;
  importedAt: string;
}

export async function importBundle(opts: ImportOptions): Promise<ImportSummary | AlreadyImported> {
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
): Promise<ImportSummary | AlreadyImported> {
  const { storage, onEvent } = opts;
  // Read the policy, but create the repository's config only once the bundle opened: a typo in
  // the manifest path must not turn an empty directory into a repository.
  const config = (await readRepositoryConfig(storage)) ?? DEFAULT_CONFIG;
  const bundle = await openBundle(opts.manifestPath, {
    ...(opts.trust === undefined ? {} : { trust: opts.trust }),
    requireSignature: config.policy.requireSignature,
    trustedKeys: config.policy.trustedKeys,
  });
  const { manifest } = bundle;
  const previous = await readBundleRecord(storage, manifest.id);
  if (previous) {
    onEvent?.({ type: 'already-imported', id: manifest.id, importedAt: previous.importedAt });
    return { alreadyImported: true, id: manifest.id, importedAt: previous.importedAt };
  }
  await ensureRepositoryConfig(storage);
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
  let collector: IndexCollector;
  try {
    collector = new IndexCollector(manifest, tempDir);
  } catch (err) {
    await rm(tempDir, { recursive: true, force: true });
    throw err;
  }
  try {
    const sink = new BlobSink(storage, {
      parallel: storage.parallelWrites ?? 1,
      onBlob: (sha256, size, stored) => onEvent?.({ type: 'blob', sha256, size, stored }),
    });
    const read = await readBundle(
      bundle,
      {
        onRecord: (record) => collector.add(record),
        onIndexEnd: () => collector.finish(storage),
        onBlob: async (record, body) => {
          if (collector.carriedSize(record.sha256) !== record.size) {
            throw new IntegrityError(
              `bundle carries blob ${record.sha256} that its index does not list`,
              {
                code: 'EUNSAFE',
                hint: 'the bundle is corrupt or was tampered with; nothing was published',
              },
            );
          }
          await sink.put(record.sha256, record.size, body);
        },
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
    };
  } finally {
    collector.close();
    await rm(tempDir, { recursive: true, force: true });
  }
}
