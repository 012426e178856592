/**
 * The last steps of a bundle, in the order that makes a crash harmless: signature, then
 * SHA256SUMS, then the manifest (temp, fsync, rename). A crash before the manifest's rename
 * leaves no manifest, so nothing that looks complete; a crash after leaves a complete bundle.
 */
import type { KeyObject } from 'node:crypto';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { BundlePlan } from './bundle-plan.js';
import {
  bundleName,
  contentsFileName,
  manifestFileName,
  signatureFileName,
} from './bundle-names.js';
import { syncDirectory, writeFileDurably } from './durable-file.js';
import type { BundleSummary, PartWritten } from './events.js';
import { releaseReport, type ManifestRelease } from './carried-release.js';
import type { BundleRecord } from './index-records.js';
import { serializeManifest, type BundleManifest } from './manifest.js';
import { signManifest } from './signing.js';
import { mergeSums } from './sums-file.js';

export interface FinishInput {
  outDir: string;
  bundle: BundleRecord;
  plan: BundlePlan;
  index: { size: number; sha256: string };
  contentsSha256: string;
  parts: PartWritten[];
  totalBytes: number;
  key: KeyObject | undefined;
  /** Already copied beside the parts: listed in the manifest and SHA256SUMS. */
  release: ManifestRelease | undefined;
  /** Files written so far; this adds its own so a failed run can remove them. */
  created: string[];
}

export async function finishBundle(input: FinishInput): Promise<Omit<BundleSummary, 'seconds'>> {
  const { outDir, bundle, plan } = input;
  const name = bundleName(bundle.id);
  const manifest = buildManifest(input, name);
  const manifestBytes = serializeManifest(manifest);
  const manifestName = manifestFileName(name);
  const sums = input.parts.map((p) => ({ sha256: p.sha256, name: p.name }));
  if (input.release) {
    const { name: tarball, sha256, extras } = input.release;
    sums.push(
      { name: tarball, sha256 },
      ...extras.map((e) => ({ name: e.name, sha256: e.sha256 })),
    );
  }
  sums.push({ sha256: sha256Of(manifestBytes), name: manifestName });
  if (input.key) {
    const sigName = signatureFileName(manifestName);
    const sig = signManifest(manifestBytes, input.key);
    input.created.push(join(outDir, sigName));
    await writeFileDurably(join(outDir, sigName), sig);
    sums.push({ sha256: sha256Of(sig), name: sigName });
  }
  sums.push({ sha256: input.contentsSha256, name: contentsFileName(name) });
  await mergeSums(outDir, sums);
  const manifestPath = join(outDir, manifestName);
  await writeFileDurably(manifestPath, manifestBytes);
  await syncDirectory(outDir);
  return {
    id: bundle.id,
    name,
    outDir,
    manifestPath,
    parent: bundle.parent,
    full: bundle.full,
    snapshots: manifest.snapshots,
    entryCount: manifest.entryCount,
    blobCount: manifest.blobCount,
    blobBytes: manifest.blobBytes,
    blobsSkipped: plan.blobsSkipped,
    totalBytes: input.totalBytes,
    parts: input.parts,
    signed: input.key !== undefined,
    ...(input.release ? { release: releaseReport(input.release) } : {}),
  };
}

function buildManifest(input: FinishInput, name: string): BundleManifest {
  const { bundle, plan } = input;
  let blobBytes = 0;
  for (const size of plan.blobs.values()) blobBytes += size;
  let offset = 0;
  return {
    format: bundle.format,
    id: bundle.id,
    name,
    parent: bundle.parent,
    full: bundle.full,
    createdAt: bundle.createdAt,
    airlockVersion: bundle.airlockVersion,
    snapshots: plan.snapshots.map((s) => ({
      source: s.info.source,
      snapshot: s.info.snapshot,
      type: s.info.type,
      entries: s.entries,
      bytes: s.bytes,
    })),
    entryCount: plan.snapshots.reduce((n, s) => n + s.entries, 0),
    blobCount: plan.blobs.size,
    blobBytes,
    totalBytes: input.totalBytes,
    index: { path: 'index.ndjson', size: input.index.size, sha256: input.index.sha256 },
    parts: input.parts.map((p, i) => {
      const part = { name: p.name, index: i + 1, offset, size: p.size, sha256: p.sha256 };
      offset += p.size;
      return part;
    }),
    partCount: input.parts.length,
    ...(input.release ? { release: input.release } : {}),
  };
}

function sha256Of(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
