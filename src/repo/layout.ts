/**
 * Every key of a repository, in one place (docs/repository-layout.md is the normative
 * description). Keys are '/'-separated and relative to the storage backend's root. Readers
 * (serve, status, check) and the importer build keys only through these functions.
 */
import { SHA256_HEX } from '../model.js';

/** The repository format these modules read and write. */
export const REPOSITORY_FORMAT = 1;

/** Repository identity and policy (airlock-repository.json). */
export const REPOSITORY_CONFIG_KEY = 'airlock-repository.json';
/** THE pointer: replaced atomically, written last by an import. */
export const PUBLISHED_KEY = 'published.json';
/** The import lock, created exclusively. */
export const IMPORT_LOCK_KEY = 'locks/import.lock';
/** What `airlock prune` removed, and the keys waiting for their grace period to end. */
export const PRUNE_RECORD_KEY = 'prune.json';
export const BLOBS_PREFIX = 'blobs/sha256/';
export const SNAPSHOTS_PREFIX = 'snapshots/';
export const BUNDLES_PREFIX = 'bundles/';

// Bundle ids become keys: keep them to a safe alphabet so no id can climb out of bundles/.
const BUNDLE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** blobs/sha256/<aa>/<sha256>: a file's bytes, uncompressed, immutable. */
export function blobKey(sha256: string): string {
  assertSha256(sha256);
  return `${BLOBS_PREFIX}${sha256.slice(0, 2)}/${sha256}`;
}

/** snapshots/<sha256>.ndjson: an immutable snapshot document named by the hash of its bytes. */
export function snapshotDocumentKey(sha256: string): string {
  assertSha256(sha256);
  return `${SNAPSHOTS_PREFIX}${sha256}.ndjson`;
}

/** bundles/<id>.json: the record that a bundle was imported completely. */
export function bundleRecordKey(bundleId: string): string {
  if (!isBundleId(bundleId)) throw new TypeError(`not a bundle id: ${JSON.stringify(bundleId)}`);
  return `${BUNDLES_PREFIX}${bundleId}.json`;
}

export function isBundleId(id: string): boolean {
  return BUNDLE_ID.test(id) && !id.includes('..');
}

/** The sha256 a blob key names, or undefined for any other key. */
export function sha256OfBlobKey(key: string): string | undefined {
  const match = /^blobs\/sha256\/([0-9a-f]{2})\/([0-9a-f]{64})$/.exec(key);
  return match && match[2]!.startsWith(match[1]!) ? match[2] : undefined;
}

/** The sha256 a snapshot document key names, or undefined for any other key. */
export function sha256OfSnapshotDocumentKey(key: string): string | undefined {
  return /^snapshots\/([0-9a-f]{64})\.ndjson$/.exec(key)?.[1];
}

/** The bundle id a bundle record key names, or undefined for any other key. */
export function bundleIdOfRecordKey(key: string): string | undefined {
  if (!key.startsWith(BUNDLES_PREFIX) || !key.endsWith('.json')) return undefined;
  const id = key.slice(BUNDLES_PREFIX.length, -'.json'.length);
  return isBundleId(id) ? id : undefined;
}

function assertSha256(sha256: string): void {
  if (!SHA256_HEX.test(sha256)) throw new TypeError(`not a sha256: ${JSON.stringify(sha256)}`);
}
