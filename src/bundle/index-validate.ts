/**
 * Validation of index.ndjson as the reader receives it: each line parsed into a typed record
 * (unknown types, bad hashes or unsafe paths refused), and the order of the records checked
 * against the manifest (docs/bundle-format.md, "Inner index").
 */
import { IntegrityError } from '../errors.js';
import { SHA256_HEX } from '../model.js';
import type { BlobList } from './blob-list.js';
import type { BlobRecord, EntryRecord, IndexRecord, SnapshotRecord } from './index-records.js';
import type { BundleManifest } from './manifest.js';

const VARIANT = /^(|R-\d+\.\d+)$/;
const ROLES = new Set(['index', 'package', 'metadata']);
const SOURCE_TYPES = new Set(['cran', 'cran-binary', 'pypi']);

export function parseIndexLine(line: string, lineNo: number): IndexRecord {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw bad(lineNo, 'is not JSON');
  }
  if (typeof value !== 'object' || value === null) throw bad(lineNo, 'is not a JSON object');
  const r = value as Record<string, unknown>;
  const problem = recordProblem(r);
  if (problem) throw bad(lineNo, problem);
  return value as IndexRecord;
}

function recordProblem(r: Record<string, unknown>): string | undefined {
  switch (r.type) {
    case 'bundle':
      return typeof r.id === 'string' && typeof r.format === 'number'
        ? undefined
        : 'bad bundle record';
    case 'snapshot':
      return snapshotProblem(r);
    case 'entry':
      return entryProblem(r);
    case 'blob':
      return isSha(r.sha256) && isCount(r.size) ? undefined : 'bad blob record (sha256 or size)';
    default:
      return `unknown record type ${JSON.stringify(r.type)}`;
  }
}

function snapshotProblem(r: Record<string, unknown>): string | undefined {
  if (!isName(r.source) || !isName(r.snapshot))
    return 'snapshot record with a bad source or snapshot id';
  if (typeof r.sourceType !== 'string' || !SOURCE_TYPES.has(r.sourceType)) {
    return 'snapshot record with an unknown sourceType';
  }
  if (typeof r.requested !== 'string') return 'snapshot record without "requested"';
  if (!isCount(r.entries) || !isCount(r.bytes))
    return 'snapshot record without entries/bytes counts';
  if (typeof r.servedTemplate !== 'string' || !r.servedTemplate.includes('{snapshot}')) {
    return 'snapshot record with a bad servedTemplate';
  }
  // Readers of the snapshot document refuse a header whose distribution is not a string: a
  // bundle must not be able to publish a document that serve and check then reject.
  if (r.distribution !== undefined && typeof r.distribution !== 'string')
    return 'snapshot record with a bad distribution';
  if (
    !Array.isArray(r.variants) ||
    !r.variants.every((v) => typeof v === 'string' && VARIANT.test(v))
  ) {
    return 'snapshot record with bad variants';
  }
  return undefined;
}

function entryProblem(r: Record<string, unknown>): string | undefined {
  if (!isName(r.source) || !isName(r.snapshot))
    return 'entry record with a bad source or snapshot id';
  if (!isSafeRelativePath(r.path))
    return `entry record with an unsafe path ${JSON.stringify(r.path)}`;
  if (typeof r.variant !== 'string' || !VARIANT.test(r.variant))
    return 'entry record with a bad variant';
  if (typeof r.role !== 'string' || !ROLES.has(r.role)) return 'entry record with a bad role';
  if (!isSha(r.sha256) || !isCount(r.size)) return 'entry record with a bad sha256 or size';
  if (!isOptionalString(r.package) || !isOptionalString(r.version))
    return 'entry record with a bad package or version';
  const p = r.provenance as Record<string, unknown> | undefined;
  if (typeof p !== 'object' || p === null || typeof p.fetchedAt !== 'string') {
    return 'entry record without provenance';
  }
  // The importer writes provenance into the snapshot documents: all of it is checked here, so
  // that what `verify` passes the importer accepts.
  if (!isOptionalString(p.url)) return 'entry record with a bad provenance url';
  if (p.generated !== undefined && typeof p.generated !== 'boolean')
    return 'entry record with a bad provenance "generated"';
  if (p.upstreamHash !== undefined) {
    const h = p.upstreamHash as Record<string, unknown> | null;
    if (
      typeof h !== 'object' ||
      h === null ||
      (h.algorithm !== 'sha256' && h.algorithm !== 'md5') ||
      typeof h.value !== 'string' ||
      !/^[0-9a-f]+$/.test(h.value)
    ) {
      return 'entry record with a bad provenance upstreamHash';
    }
  }
  return undefined;
}

function isOptionalString(v: unknown): boolean {
  return v === undefined || typeof v === 'string';
}

/**
 * Checks the records' order and counts: bundle first (matching the manifest), each snapshot
 * followed by exactly its entries, then the blob records, each blob once. The blob records
 * go to `blobs`, in order, for the tar to be checked against.
 */
export class IndexSequence {
  records = 0;
  private phase: 'start' | 'snapshots' | 'blobs' = 'start';
  private current: SnapshotRecord | undefined;
  private entriesSeen = 0;
  private snapshots = 0;
  private entries = 0;

  constructor(
    private readonly manifest: BundleManifest,
    readonly blobs: BlobList,
  ) {}

  accept(record: IndexRecord, lineNo: number): void {
    this.records += 1;
    if (this.phase === 'start') {
      const m = this.manifest;
      if (record.type !== 'bundle') throw bad(lineNo, 'the first record is not the bundle record');
      if (record.id !== m.id || record.parent !== m.parent || record.format !== m.format) {
        throw bad(lineNo, 'the bundle record does not match the manifest (id, parent or format)');
      }
      this.phase = 'snapshots';
      return;
    }
    if (record.type === 'bundle') throw bad(lineNo, 'a second bundle record');
    if (record.type === 'blob') return this.acceptBlob(record, lineNo);
    if (this.phase === 'blobs') throw bad(lineNo, `a ${record.type} record after the blob records`);
    if (record.type === 'snapshot') {
      this.closeSnapshot(lineNo);
      this.current = record;
      this.snapshots += 1;
      return;
    }
    this.acceptEntry(record, lineNo);
  }

  /** Called after the last line: every count must add up. */
  finish(lineNo: number): void {
    if (this.phase === 'start') throw bad(lineNo, 'the index is empty');
    this.closeSnapshot(lineNo);
    const m = this.manifest;
    if (
      this.snapshots !== m.snapshots.length ||
      this.entries !== m.entryCount ||
      this.blobs.length !== m.blobCount
    ) {
      throw bad(lineNo, 'the numbers of snapshots, entries or blobs differ from the manifest');
    }
  }

  private acceptEntry(record: EntryRecord, lineNo: number): void {
    const s = this.current;
    if (!s || record.source !== s.source || record.snapshot !== s.snapshot) {
      throw bad(lineNo, 'an entry record outside its snapshot');
    }
    this.entriesSeen += 1;
    this.entries += 1;
  }

  private acceptBlob(record: BlobRecord, lineNo: number): void {
    if (this.phase !== 'blobs') this.closeSnapshot(lineNo);
    this.phase = 'blobs';
    if (!this.blobs.add(record.sha256, record.size))
      throw bad(lineNo, `blob ${record.sha256} is listed twice`);
  }

  private closeSnapshot(lineNo: number): void {
    if (this.current && this.entriesSeen !== this.current.entries) {
      throw bad(
        lineNo,
        `snapshot ${this.current.source}/${this.current.snapshot} announces ${this.current.entries} entries but lists ${this.entriesSeen}`,
      );
    }
    this.current = undefined;
    this.entriesSeen = 0;
  }
}

/** A '/'-separated relative path with no empty, '.' or '..' segment, backslash or NUL. */
export function isSafeRelativePath(p: unknown): p is string {
  if (typeof p !== 'string' || p === '' || p.startsWith('/') || /[\\\u0000]/.test(p)) return false;
  const segments = p.split('/');
  // A PyPI project page is '{project}/': a trailing empty segment is its only allowed form.
  if (segments[segments.length - 1] === '') segments.pop();
  return segments.length > 0 && segments.every((s) => s !== '' && s !== '.' && s !== '..');
}

function isName(v: unknown): v is string {
  return typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(v);
}

function isSha(v: unknown): v is string {
  return typeof v === 'string' && SHA256_HEX.test(v);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function bad(lineNo: number, why: string): IntegrityError {
  return new IntegrityError(`index.ndjson line ${lineNo}: ${why}`, {
    code: 'EUNSAFE',
    hint: 'the bundle was not made by airlock or was altered: do not import it; ask for a new bundle',
  });
}
