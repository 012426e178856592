/**
 * `airlock import MANIFEST --repair`: re-reads an imported bundle (verifying it as an import
 * does) and checks the repository's copy of every blob and snapshot document it carries,
 * rewriting those that are missing, of the wrong size or whose bytes no longer hash to their
 * name. Nothing is published and the bundle record is left alone: a repair restores the bytes
 * that published.json already names, and never brings back a snapshot a later bundle replaced.
 * A damaged key is deleted before it is written again, because writes leave a key that already
 * holds an object of the right size alone (see BlobSink).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { OpenedBundle } from '../bundle/open.js';
import { readBundle } from '../bundle/read.js';
import { BlobSink } from './blob-sink.js';
import { IndexCollector } from './index-collector.js';
import { makeImportTempDir } from './import-temp.js';
import { blobKey, snapshotDocumentKey } from './layout.js';
import type { Storage } from './storage.js';

export type Damage = 'missing' | 'size' | 'hash';

export interface RepairResult {
  blobsChecked: number;
  blobsRewritten: { sha256: string; damage: Damage }[];
  documentsChecked: number;
  documentsRewritten: { sha256: string; damage: Damage }[];
  bytesRead: number;
}

export type RepairEvent =
  | { type: 'repair-blob'; sha256: string; damage: Damage }
  | { type: 'repair-document'; sha256: string; damage: Damage }
  | { type: 'progress'; bytesRead: number; totalBytes: number };

export async function repairFromBundle(
  storage: Storage,
  bundle: OpenedBundle,
  opts: { signal?: AbortSignal; onEvent?: (e: RepairEvent) => void } = {},
): Promise<RepairResult> {
  const result: RepairResult = {
    blobsChecked: 0,
    blobsRewritten: [],
    documentsChecked: 0,
    documentsRewritten: [],
    bytesRead: 0,
  };
  const tempDir = await makeImportTempDir();
  const collector = new IndexCollector(bundle.manifest, tempDir);
  try {
    const sink = new BlobSink(storage, { parallel: storage.parallelWrites ?? 1 });
    const read = await readBundle(
      bundle,
      {
        onRecord: (record) => collector.add(record),
        // A delta's blobs from its parent chain are not this bundle's to repair: check names
        // the bundle that carried each of them.
        onIndexEnd: () => collector.finishDocuments(),
        onBlob: async (record, body) => {
          result.blobsChecked += 1;
          const damage = await storedDamage(
            storage,
            blobKey(record.sha256),
            record.sha256,
            record.size,
          );
          if (damage === undefined) {
            // Draining is the check of the bundle's own copy.
            await finished(body.resume());
            return;
          }
          if (damage !== 'missing') await storage.delete(blobKey(record.sha256));
          await sink.put(record.sha256, record.size, body);
          result.blobsRewritten.push({ sha256: record.sha256, damage });
          opts.onEvent?.({ type: 'repair-blob', sha256: record.sha256, damage });
        },
        onProgress: (bytesRead, totalBytes) =>
          opts.onEvent?.({ type: 'progress', bytesRead, totalBytes }),
      },
      { scratchDir: tempDir, ...(opts.signal ? { signal: opts.signal } : {}) },
    );
    await sink.flush();
    result.bytesRead = read.bytes;
    // Documents after the blobs, as an import writes them: a document never names a missing blob.
    for (const doc of collector.documents) {
      result.documentsChecked += 1;
      const key = snapshotDocumentKey(doc.sha256);
      const damage = await storedDamage(storage, key, doc.sha256, doc.size);
      if (damage === undefined) continue;
      await storage.writeStream(key, createReadStream(doc.file), doc.size);
      result.documentsRewritten.push({ sha256: doc.sha256, damage });
      opts.onEvent?.({ type: 'repair-document', sha256: doc.sha256, damage });
    }
    return result;
  } finally {
    await rm(tempDir, { recursive: true, force: true });
  }
}

/** What is wrong with the repository's copy of an object named by its sha256, if anything. */
async function storedDamage(
  storage: Storage,
  key: string,
  sha256: string,
  size: number,
): Promise<Damage | undefined> {
  const info = await storage.stat(key);
  if (!info) return 'missing';
  if (info.size !== size) return 'size';
  const body: Readable | undefined = await storage.read(key);
  if (!body) return 'missing';
  const hash = createHash('sha256');
  for await (const chunk of body) hash.update(chunk as Buffer);
  return hash.digest('hex') === sha256 ? undefined : 'hash';
}
