/**
 * prune.json: what `airlock prune` removed from published.json (a short history, so a re-run
 * that names an already-removed snapshot knows it is done), and every key that no published
 * snapshot references, with the time it was first seen so. A key is deleted only once its
 * grace period has passed since then and it is still unreferenced: servers that read an older
 * published.json and clients in the middle of a download keep finding what they were told of.
 * Written atomically, under the import lock, before published.json changes.
 */
import { Fields, isObject, parseJsonObject } from './document-json.js';
import {
  PRUNE_RECORD_KEY,
  REPOSITORY_FORMAT,
  sha256OfBlobKey,
  sha256OfSnapshotDocumentKey,
} from './layout.js';
import type { Storage } from './storage.js';

export interface PrunedSnapshot {
  source: string;
  snapshot: string;
  document: string;
  bundle: string;
  prunedAt: string;
}

export interface PendingKey {
  /** When a prune first found the key referenced by no published snapshot. */
  since: string;
  size: number;
}

export interface PruneRecord {
  format: number;
  updatedAt: string;
  /** Oldest first, the newest HISTORY_LIMIT kept. */
  pruned: PrunedSnapshot[];
  /** By key: blobs/sha256/… and snapshots/….ndjson waiting for their grace period. */
  pending: Record<string, PendingKey>;
  /**
   * The bundle records there were at the last prune: a record not in this list is an import
   * since then, and a pending document it published was served meanwhile.
   */
  bundles: string[];
}

/** Enough history for any re-run of a recent prune to recognise what it already removed. */
export const HISTORY_LIMIT = 1000;

export function emptyPruneRecord(): PruneRecord {
  return {
    format: REPOSITORY_FORMAT,
    updatedAt: new Date(0).toISOString(),
    pruned: [],
    pending: {},
    bundles: [],
  };
}

export async function readPruneRecord(storage: Storage): Promise<PruneRecord | undefined> {
  const bytes = await storage.readBuffer(PRUNE_RECORD_KEY);
  return bytes === undefined ? undefined : parsePruneRecord(bytes, storage.location);
}

export async function writePruneRecord(storage: Storage, record: PruneRecord): Promise<void> {
  const pruned = record.pruned.slice(-HISTORY_LIMIT);
  // One key per line: a record of 100,000 pending blobs stays readable with grep and less.
  const pending = Object.entries(record.pending)
    .map(([key, p]) => `    ${JSON.stringify(key)}: ${JSON.stringify(p)}`)
    .join(',\n');
  const text = [
    '{',
    `  "format": ${record.format},`,
    `  "updatedAt": ${JSON.stringify(record.updatedAt)},`,
    `  "pruned": [${pruned.map((p) => `\n    ${JSON.stringify(p)}`).join(',')}${pruned.length ? '\n  ' : ''}],`,
    `  "pending": {${pending ? `\n${pending}\n  ` : ''}},`,
    `  "bundles": ${JSON.stringify(record.bundles)}`,
    '}',
    '',
  ].join('\n');
  await storage.write(PRUNE_RECORD_KEY, text);
}

export function parsePruneRecord(bytes: Buffer, location: string): PruneRecord {
  const f = new Fields(PRUNE_RECORD_KEY, location);
  const obj = parseJsonObject(bytes, PRUNE_RECORD_KEY, location);
  const format = f.count(obj, 'format');
  if (format > REPOSITORY_FORMAT) f.fail(`format ${format} is newer than this airlock reads`);
  const prunedList = Array.isArray(obj.pruned) ? obj.pruned : f.fail('"pruned" is not a list');
  const pruned = prunedList.map((p: unknown) => {
    const o = isObject(p) ? p : f.fail('a "pruned" item is not an object');
    return {
      source: f.string(o, 'source'),
      snapshot: f.string(o, 'snapshot'),
      document: f.string(o, 'document'),
      bundle: f.string(o, 'bundle'),
      prunedAt: f.string(o, 'prunedAt'),
    };
  });
  const pending: Record<string, PendingKey> = {};
  for (const [key, value] of Object.entries(f.object(obj, 'pending'))) {
    if (sha256OfBlobKey(key) === undefined && sha256OfSnapshotDocumentKey(key) === undefined) {
      f.fail(`pending key ${JSON.stringify(key)} is neither a blob nor a snapshot document`);
    }
    const o = isObject(value) ? value : f.fail(`pending ${key} is not an object`);
    const since = f.string(o, 'since');
    if (Number.isNaN(Date.parse(since))) f.fail(`pending ${key}: "since" is not a time`);
    pending[key] = { since, size: f.count(o, 'size') };
  }
  const bundles = f.stringArray(obj, 'bundles');
  return { format, updatedAt: f.string(obj, 'updatedAt'), pruned, pending, bundles };
}

/** When the first of these keys' grace period ends, or undefined for none. */
export function firstDue(
  pending: Iterable<[string, PendingKey]>,
  graceMs: number,
): string | undefined {
  // A loop, not Math.min(...all): 100,000 arguments overflow the stack.
  let first = Infinity;
  for (const [, p] of pending) first = Math.min(first, Date.parse(p.since));
  return Number.isFinite(first) ? new Date(first + graceMs).toISOString() : undefined;
}
