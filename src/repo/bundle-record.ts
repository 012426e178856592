/**
 * bundles/<id>.json: the record that a bundle was imported completely. Written after
 * published.json, so its presence means "nothing left to do for this bundle" and is what makes
 * a re-import a quick no-op and what a delta's parent check looks for.
 */
import { Fields, parseJsonObject } from './document-json.js';
import { BUNDLES_PREFIX, bundleIdOfRecordKey, bundleRecordKey, isBundleId } from './layout.js';
import type { Storage } from './storage.js';

export type SignatureState = 'verified' | 'unsigned' | 'unchecked';

export interface BundleImportRecord {
  format: number;
  id: string;
  parent: string | null;
  full: boolean;
  createdAt: string;
  importedAt: string;
  signature: SignatureState;
  snapshots: { source: string; snapshot: string; document: string }[];
  /** The bundle's manifest as it arrived (part hashes, counts). */
  manifest: unknown;
}

export async function writeBundleRecord(
  storage: Storage,
  record: BundleImportRecord,
): Promise<void> {
  await storage.write(bundleRecordKey(record.id), `${JSON.stringify(record, null, 2)}\n`);
}

export async function hasBundleRecord(storage: Storage, id: string): Promise<boolean> {
  return isBundleId(id) && (await storage.stat(bundleRecordKey(id))) !== undefined;
}

export async function readBundleRecord(
  storage: Storage,
  id: string,
): Promise<BundleImportRecord | undefined> {
  const key = bundleRecordKey(id);
  const bytes = await storage.readBuffer(key);
  return bytes === undefined ? undefined : parseBundleRecord(bytes, key, storage.location);
}

/** True once any bundle was imported completely (stops at the first record it finds). */
export async function hasAnyBundleRecord(storage: Storage): Promise<boolean> {
  for await (const key of storage.list(BUNDLES_PREFIX)) {
    if (bundleIdOfRecordKey(key) !== undefined) return true;
  }
  return false;
}

/** Every imported bundle, oldest import first. */
export async function listBundleRecords(storage: Storage): Promise<BundleImportRecord[]> {
  const records: BundleImportRecord[] = [];
  for await (const key of storage.list(BUNDLES_PREFIX)) {
    const id = bundleIdOfRecordKey(key);
    if (id === undefined) continue;
    const record = await readBundleRecord(storage, id);
    if (record) records.push(record);
  }
  return records.sort(
    (a, b) => a.importedAt.localeCompare(b.importedAt) || a.id.localeCompare(b.id),
  );
}

function parseBundleRecord(bytes: Buffer, key: string, location: string): BundleImportRecord {
  const f = new Fields(key, location);
  const obj = parseJsonObject(bytes, key, location);
  const parent = obj.parent === null ? null : f.string(obj, 'parent');
  const signature = f.string(obj, 'signature') as SignatureState;
  if (!['verified', 'unsigned', 'unchecked'].includes(signature)) {
    f.fail(`unknown signature state "${signature}"`);
  }
  const snapshots = Array.isArray(obj.snapshots)
    ? obj.snapshots
    : f.fail('"snapshots" is not a list');
  return {
    format: f.count(obj, 'format'),
    id: f.string(obj, 'id'),
    parent,
    full: f.boolean(obj, 'full'),
    createdAt: f.string(obj, 'createdAt'),
    importedAt: f.string(obj, 'importedAt'),
    signature,
    snapshots: snapshots.map((s: unknown) => {
      const o =
        typeof s === 'object' && s !== null
          ? (s as Record<string, unknown>)
          : f.fail('bad snapshot');
      return {
        source: f.string(o, 'source'),
        snapshot: f.string(o, 'snapshot'),
        document: f.string(o, 'document'),
      };
    }),
    manifest: obj.manifest,
  };
}
