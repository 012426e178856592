/**
 * NAME.manifest.json: what a bundle holds and how to check each part on its own. Written last
 * by the producer (a bundle whose manifest exists is complete) and parsed once, strictly, by
 * the reader; docs/bundle-format.md is the normative description.
 */
import { IntegrityError } from '../errors.js';
import { SHA256_HEX, type SnapshotRef, type SourceType } from '../model.js';
import { BUNDLE_FORMAT_VERSION } from './index-records.js';
import { BUNDLE_ID, bundleName, isPartFileName } from './bundle-names.js';
import { releaseProblems, type ManifestRelease } from './carried-release.js';

export interface ManifestSnapshot extends SnapshotRef {
  type: SourceType;
  entries: number;
  bytes: number;
}

export interface ManifestPart {
  name: string;
  /** 1-based position in the stream. */
  index: number;
  /** Byte offset of the part's first byte in the tar stream. */
  offset: number;
  size: number;
  sha256: string;
}

export interface BundleManifest {
  format: number;
  id: string;
  name: string;
  parent: string | null;
  full: boolean;
  createdAt: string;
  airlockVersion: string;
  snapshots: ManifestSnapshot[];
  entryCount: number;
  blobCount: number;
  blobBytes: number;
  /** Length of the whole tar stream: the sum of the parts' sizes. */
  totalBytes: number;
  index: { path: 'index.ndjson'; size: number; sha256: string };
  parts: ManifestPart[];
  partCount: number;
  /** An airlock release carried beside the parts (optional; older readers ignore it). */
  release?: ManifestRelease;
}

export function serializeManifest(manifest: BundleManifest): Buffer {
  return Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
}

/** Parses and checks a manifest's shape and arithmetic; `where` names the file in errors. */
export function parseManifest(bytes: Buffer, where: string): BundleManifest {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw corrupt(where, 'it is not valid JSON', err);
  }
  if (!isObject(value)) throw corrupt(where, 'it is not a JSON object');
  if (typeof value.format === 'number' && value.format > BUNDLE_FORMAT_VERSION) {
    throw new IntegrityError(
      `${where} is bundle format ${value.format}, made by a newer airlock (this one reads format ${BUNDLE_FORMAT_VERSION})`,
      { code: 'EFORMAT', hint: 'upgrade airlock on this side of the gap, then run again' },
    );
  }
  if (value.format !== BUNDLE_FORMAT_VERSION)
    throw corrupt(where, 'its "format" is missing or unknown');
  const m = value as unknown as BundleManifest;
  const problems = manifestProblems(m);
  if (problems.length > 0) throw corrupt(where, problems.join('; '));
  return m;
}

function manifestProblems(m: BundleManifest): string[] {
  const out: string[] = [];
  const check = (ok: boolean, what: string): void => {
    if (!ok) out.push(what);
  };
  check(typeof m.id === 'string' && BUNDLE_ID.test(m.id), '"id" is not a bundle id');
  check(m.name === bundleName(String(m.id)), '"name" does not match "id"');
  check(
    m.parent === null || (typeof m.parent === 'string' && BUNDLE_ID.test(m.parent)),
    'bad "parent"',
  );
  check(
    typeof m.full === 'boolean' && m.full === (m.parent === null),
    '"full" disagrees with "parent"',
  );
  check(
    typeof m.createdAt === 'string' && typeof m.airlockVersion === 'string',
    'bad createdAt/airlockVersion',
  );
  for (const key of ['entryCount', 'blobCount', 'blobBytes', 'totalBytes', 'partCount'] as const) {
    check(isCount(m[key]), `"${key}" is not a count`);
  }
  check(Array.isArray(m.snapshots) && m.snapshots.every(isManifestSnapshot), 'bad "snapshots"');
  const index = m.index as unknown;
  check(
    isObject(index) && index.path === 'index.ndjson' && isCount(index.size) && isSha(index.sha256),
    'bad "index"',
  );
  if (!Array.isArray(m.parts) || m.parts.length === 0 || m.parts.length !== m.partCount) {
    out.push('"parts" is empty or disagrees with "partCount"');
    return out;
  }
  // Each part is judged on its own: where one part's size is unusable, the next part's offset
  // is taken as given, so one bad part is named alone instead of every part after it.
  let offset: number | undefined = 0;
  let sum = 0;
  let allSized = true;
  m.parts.forEach((part: unknown, i) => {
    const bad = isObject(part)
      ? partProblems(part, i + 1, offset, String(m.name))
      : ['it is not an object'];
    check(bad.length === 0, `part ${i + 1} is malformed: ${bad.join('; ')}`);
    const size = isObject(part) && isCount(part.size) ? part.size : undefined;
    const start = offset ?? (isObject(part) && isCount(part.offset) ? part.offset : undefined);
    offset = start === undefined || size === undefined ? undefined : start + size;
    if (size === undefined) allSized = false;
    else sum += size;
  });
  check(!allSized || sum === m.totalBytes, '"totalBytes" is not the sum of the parts');
  out.push(...releaseProblems((m as { release?: unknown }).release));
  return out;
}

function partProblems(
  part: Record<string, unknown>,
  index: number,
  offset: number | undefined,
  bundle: string,
): string[] {
  const bad: string[] = [];
  if (typeof part.name !== 'string' || !isPartFileName(part.name, bundle))
    bad.push(
      `a bad name ${JSON.stringify(part.name)} (expected ${bundle}.partNNN or ${bundle}.tar)`,
    );
  if (part.index !== index) bad.push(`index ${JSON.stringify(part.index)} (expected ${index})`);
  if (offset !== undefined && part.offset !== offset)
    bad.push(`offset ${JSON.stringify(part.offset)} (expected ${offset})`);
  if (!isCount(part.size) || part.size === 0) bad.push(`a bad size ${JSON.stringify(part.size)}`);
  if (!isSha(part.sha256)) bad.push('a bad sha256');
  return bad;
}

function isManifestSnapshot(s: unknown): boolean {
  return (
    isObject(s) &&
    typeof s.source === 'string' &&
    typeof s.snapshot === 'string' &&
    typeof s.type === 'string' &&
    isCount(s.entries) &&
    isCount(s.bytes)
  );
}

function corrupt(where: string, why: string, cause?: unknown): IntegrityError {
  return new IntegrityError(`${where} is not a valid bundle manifest: ${why}`, {
    hint: 'copy the manifest again from the source media; if it was edited, use the original',
    cause,
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isSha(v: unknown): v is string {
  return typeof v === 'string' && SHA256_HEX.test(v);
}
