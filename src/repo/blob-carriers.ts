/**
 * Which imported bundle carried a blob, for `airlock check` to name the bundle whose
 * `airlock import MANIFEST --repair` rewrites it. A bundle carries only blobs of its own
 * snapshots, and a delta only those no earlier bundle of its chain carried, so the carrier of
 * a blob is the earliest imported bundle whose snapshot documents reference it. Read only when
 * check found problems: one pass over the documents the bundle records name.
 */
import { listBundleRecords } from './bundle-record.js';
import { openSnapshotDocument } from './snapshot-document.js';
import type { Storage } from './storage.js';

export interface Carriers {
  /** sha256 → id of the bundle that carried it. */
  blobs: Map<string, string>;
  /** snapshot document sha256 → id of the first bundle that brought it. */
  documents: Map<string, string>;
}

export async function findCarriers(
  storage: Storage,
  blobs: ReadonlySet<string>,
  documents: ReadonlySet<string>,
): Promise<Carriers> {
  const found: Carriers = { blobs: new Map(), documents: new Map() };
  const read = new Set<string>();
  for (const record of await listBundleRecords(storage)) {
    for (const { document } of record.snapshots) {
      if (documents.has(document) && !found.documents.has(document)) {
        found.documents.set(document, record.id);
      }
      if (read.has(document) || found.blobs.size === blobs.size) continue;
      read.add(document);
      try {
        const opened = await openSnapshotDocument(storage, document);
        for await (const entry of opened.entries) {
          if (blobs.has(entry.sha256) && !found.blobs.has(entry.sha256)) {
            found.blobs.set(entry.sha256, record.id);
          }
        }
      } catch (err) {
        // A missing or damaged document is a problem check reports on its own; its bundle's
        // repair rewrites it, and the blobs it names are then found through the next bundle.
        if ((err as { code?: string }).code !== 'EDOCUMENT') throw err;
      }
    }
  }
  return found;
}
