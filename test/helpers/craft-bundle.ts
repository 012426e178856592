/**
 * Builds a bundle around ARBITRARY tar content: the manifest's part hashes, SHA256SUMS and an
 * optional signature are all valid, so a reader must refuse hostile content from the tar and
 * index checks alone. Used by the bundle reader tests and the import tests.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  bundleName,
  manifestFileName,
  partFileNames,
  signatureFileName,
} from '../../src/bundle/bundle-names.js';
import type {
  BlobRecord,
  EntryRecord,
  IndexRecord,
  SnapshotRecord,
} from '../../src/bundle/index-records.js';
import { serializeManifest, type BundleManifest } from '../../src/bundle/manifest.js';
import { loadPrivateKey, signManifest } from '../../src/bundle/signing.js';
import { BLOCK, encodeHeader, paddedSize, paxRecord } from '../../src/bundle/tar-header.js';

export interface CraftEntry {
  name: string;
  body?: Buffer;
  /** The size the header declares (defaults to the body's length). */
  size?: number;
  typeflag?: string;
  linkname?: string;
  /** Records of a pax 'x' header written in front of this entry. */
  pax?: Record<string, string>;
}

export interface CraftOptions {
  /** Index records; index.ndjson is built from them and put first unless `rawIndex` is set. */
  indexRecords: IndexRecord[];
  /** Tar entries after index.ndjson. */
  entries?: CraftEntry[];
  /** A whole tar stream instead (index.ndjson included by the caller). */
  tarBytes?: Buffer;
  /** Private key path: writes NAME.manifest.json.sig. */
  sign?: string;
  partSize?: number;
  id?: string;
}

export interface CraftedBundle {
  dir: string;
  name: string;
  manifestPath: string;
  manifest: BundleManifest;
}

export const CRAFT_ID = '20261101T100000Z-c0ffee';
const MTIME = 1_793_527_200;

export function indexBytes(records: IndexRecord[]): Buffer {
  return Buffer.from(records.map((r) => `${JSON.stringify(r)}\n`).join(''));
}

export function tarOf(entries: CraftEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    if (e.pax) {
      const body = Buffer.from(
        Object.entries(e.pax)
          .map(([k, v]) => paxRecord(k, v))
          .join(''),
      );
      blocks.push(
        encodeHeader({ name: `PaxHeaders/x`, size: body.length, mtime: MTIME, typeflag: 'x' }),
      );
      blocks.push(body, Buffer.alloc(paddedSize(body.length) - body.length));
    }
    const body = e.body ?? Buffer.alloc(0);
    const size = e.size ?? body.length;
    blocks.push(
      encodeHeader({
        name: e.name,
        size,
        mtime: MTIME,
        typeflag: e.typeflag ?? '0',
        linkname: e.linkname ?? '',
      }),
    );
    blocks.push(body, Buffer.alloc(paddedSize(body.length) - body.length));
  }
  blocks.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(blocks);
}

export async function craftBundle(dir: string, opts: CraftOptions): Promise<CraftedBundle> {
  const id = opts.id ?? CRAFT_ID;
  const name = bundleName(id);
  const index = indexBytes(opts.indexRecords);
  const tar =
    opts.tarBytes ?? tarOf([{ name: 'index.ndjson', body: index }, ...(opts.entries ?? [])]);
  const limit = opts.partSize ?? tar.length;
  const names = partFileNames(name, Math.ceil(tar.length / limit));
  const parts = names.map((partName, i) => {
    const bytes = tar.subarray(i * limit, (i + 1) * limit);
    return {
      name: partName,
      index: i + 1,
      offset: i * limit,
      size: bytes.length,
      sha256: sha256(bytes),
      bytes,
    };
  });
  for (const p of parts) await writeFile(join(dir, p.name), p.bytes);
  const bundle = opts.indexRecords.find((r) => r.type === 'bundle');
  const snapshots = opts.indexRecords.filter((r): r is SnapshotRecord => r.type === 'snapshot');
  const blobs = opts.indexRecords.filter((r): r is BlobRecord => r.type === 'blob');
  const manifest: BundleManifest = {
    format: 1,
    id,
    name,
    parent: bundle?.type === 'bundle' ? bundle.parent : null,
    full: bundle?.type === 'bundle' ? bundle.full : true,
    createdAt: '2026-11-01T10:00:00.000Z',
    airlockVersion: 'craft',
    snapshots: snapshots.map((s) => ({
      source: s.source,
      snapshot: s.snapshot,
      type: s.sourceType,
      entries: s.entries,
      bytes: s.bytes,
    })),
    entryCount: opts.indexRecords.filter((r) => r.type === 'entry').length,
    blobCount: blobs.length,
    blobBytes: blobs.reduce((n, b) => n + b.size, 0),
    totalBytes: tar.length,
    index: { path: 'index.ndjson', size: index.length, sha256: sha256(index) },
    parts: parts.map(({ bytes: _bytes, ...p }) => p),
    partCount: parts.length,
  };
  const manifestBytes = serializeManifest(manifest);
  const manifestPath = join(dir, manifestFileName(name));
  await writeFile(manifestPath, manifestBytes);
  const sums =
    parts.map((p) => `${p.sha256}  ${p.name}\n`).join('') +
    `${sha256(manifestBytes)}  ${manifestFileName(name)}\n`;
  await writeFile(join(dir, 'SHA256SUMS'), sums);
  if (opts.sign) {
    await writeFile(
      join(dir, signatureFileName(manifestFileName(name))),
      signManifest(manifestBytes, await loadPrivateKey(opts.sign)),
    );
  }
  return { dir, name, manifestPath, manifest };
}

/** A valid index for these files (one snapshot `cran/2026-11-01`), with one blob per file. */
export function indexFor(files: Buffer[], id = CRAFT_ID): IndexRecord[] {
  const entries: EntryRecord[] = files.map((bytes, i) => ({
    type: 'entry',
    source: 'cran',
    snapshot: '2026-11-01',
    path: `src/contrib/pkg${i}_1.0.tar.gz`,
    variant: '',
    role: 'package',
    sha256: sha256(bytes),
    size: bytes.length,
    package: `pkg${i}`,
    version: '1.0',
    provenance: {
      url: `https://upstream.example/cran/pkg${i}_1.0.tar.gz`,
      fetchedAt: '2026-11-01T10:00:00.000Z',
    },
  }));
  const snapshot: SnapshotRecord = {
    type: 'snapshot',
    source: 'cran',
    snapshot: '2026-11-01',
    sourceType: 'cran',
    requested: '2026-11-01',
    servedTemplate: 'cran/{snapshot}',
    variants: [''],
    entries: entries.length,
    bytes: entries.reduce((n, e) => n + e.size, 0),
  };
  const blobs: BlobRecord[] = files.map((bytes) => ({
    type: 'blob',
    sha256: sha256(bytes),
    size: bytes.length,
  }));
  return [
    {
      type: 'bundle',
      format: 1,
      id,
      parent: null,
      createdAt: '2026-11-01T10:00:00.000Z',
      airlockVersion: 'craft',
      full: true,
    },
    snapshot,
    ...entries,
    ...blobs,
  ];
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const GOOD = Buffer.from('a good package\n');
const EVIL = Buffer.from('evil bytes\n');

/** `../evil` after a valid index. */
export function hostileTraversal(dir: string, sign?: string): Promise<CraftedBundle> {
  return hostile(dir, [{ name: '../evil', body: EVIL }], sign);
}

/** `/etc/passwd` after a valid index. */
export function hostileAbsolute(dir: string, sign?: string): Promise<CraftedBundle> {
  return hostile(dir, [{ name: '/etc/passwd', body: EVIL }], sign);
}

/** A listed blob name that is a symbolic link to /etc/passwd. */
export function hostileSymlink(dir: string, sign?: string): Promise<CraftedBundle> {
  return hostile(
    dir,
    [{ name: `blobs/${sha256(GOOD)}`, typeflag: '2', linkname: '/etc/passwd' }],
    sign,
  );
}

/** A listed blob name that is a hard link out of the tree. */
export function hostileHardlink(dir: string, sign?: string): Promise<CraftedBundle> {
  return hostile(
    dir,
    [{ name: `blobs/${sha256(GOOD)}`, typeflag: '1', linkname: '../../etc/shadow' }],
    sign,
  );
}

/** A listed blob name that is a character device. */
export function hostileDevice(dir: string, sign?: string): Promise<CraftedBundle> {
  return hostile(dir, [{ name: `blobs/${sha256(GOOD)}`, typeflag: '3' }], sign);
}

/** A listed blob whose tar entry is larger than the index says. */
export function hostileOversized(dir: string, sign?: string): Promise<CraftedBundle> {
  const big = Buffer.concat([GOOD, Buffer.alloc(4096, 0x41)]);
  return hostile(dir, [{ name: `blobs/${sha256(GOOD)}`, body: big }], sign);
}

/** A well-formed blob entry that the index does not list. */
export function hostileUnlisted(dir: string, sign?: string): Promise<CraftedBundle> {
  return hostile(dir, [{ name: `blobs/${sha256(EVIL)}`, body: EVIL }], sign);
}

/** The same valid index (one blob: GOOD), followed by the given entries instead of the blob. */
function hostile(dir: string, entries: CraftEntry[], sign?: string): Promise<CraftedBundle> {
  return craftBundle(dir, { indexRecords: indexFor([GOOD]), entries, ...(sign ? { sign } : {}) });
}

/** The valid bundle the hostile ones are variations of: it must read cleanly. */
export function wellFormed(dir: string, sign?: string): Promise<CraftedBundle> {
  return hostile(dir, [{ name: `blobs/${sha256(GOOD)}`, body: GOOD }], sign);
}
