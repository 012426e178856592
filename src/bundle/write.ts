/**
 * `airlock bundle`: writes the snapshots and blobs a plan chose as one tar stream cut into
 * parts, then the contents listing, the signature, SHA256SUMS and, last, the manifest. Only a
 * bundle whose manifest exists is complete; only then does the workspace record it for later
 * deltas. docs/bundle-format.md describes the result.
 */
import { statSync } from 'node:fs';
import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError, storageErrorFrom, UsageError } from '../errors.js';
import { makeDirectory } from '../make-directory.js';
import { planBundle, type BundlePlan } from './bundle-plan.js';
import { bundleName, contentsFileName, makeBundleId, partFileNames } from './bundle-names.js';
import { writeContentsListing } from './contents-listing.js';
import type { BundleEvent, BundleSummary } from './events.js';
import { requireFreeSpace } from '../free-space.js';
import { writeIndexFile } from './index-file.js';
import { BlobChecker } from './blob-checker.js';
import { BUNDLE_FORMAT_VERSION, type BundleRecord } from './index-records.js';
import { finishBundle } from './finish-bundle.js';
import { carryRelease, requireReleaseFile } from './carried-release.js';
import { PartHasher } from './part-hasher.js';
import { PartSink } from './part-sink.js';
import { loadPrivateKey } from './signing.js';
import { partLimit } from './size.js';
import { entryBytes } from './tar-header.js';
import { produceTar, tarStreamLength } from './tar-producer.js';
import type { BundleWorkspace } from './workspace-view.js';

export interface WriteBundleOptions {
  workspace: BundleWorkspace;
  outDir: string;
  /** Bytes; exactly 4 GiB is applied as 4 GiB − 1 (FAT32). Absent: one NAME.tar. */
  maxPartSize?: number;
  signKeyPath?: string;
  /** An airlock release tarball to carry beside the parts (its .sha256/.sig come along). */
  withRelease?: string;
  full?: boolean;
  since?: string;
  sources?: string[];
  snapshot?: string;
  airlockVersion: string;
  onEvent?: (e: BundleEvent) => void;
  signal?: AbortSignal;
  now?: Date;
}

export interface NothingNew {
  nothingNew: true;
  reason: string;
}

const PROGRESS_STEP = 1024 * 1024;

export async function writeBundle(opts: WriteBundleOptions): Promise<BundleSummary | NothingNew> {
  // Started first: the workers boot (~50-100 ms) while the plan and the index are made.
  const hasher = new PartHasher();
  const checker = new BlobChecker();
  try {
    return await writeWith(hasher, checker, opts);
  } finally {
    await Promise.all([hasher.close(), checker.close()]);
  }
}

async function writeWith(
  hasher: PartHasher,
  checker: BlobChecker,
  opts: WriteBundleOptions,
): Promise<BundleSummary | NothingNew> {
  const started = performance.now();
  const emit = opts.onEvent ?? (() => undefined);
  const limit = opts.maxPartSize === undefined ? Infinity : partLimit(opts.maxPartSize);
  const key = opts.signKeyPath === undefined ? undefined : await loadPrivateKey(opts.signKeyPath);
  if (opts.withRelease !== undefined) await requireReleaseFile(opts.withRelease);
  const plan = planBundle(opts.workspace, opts);
  if (plan.snapshots.length === 0) return { nothingNew: true, reason: nothingNewReason(plan) };
  // After the plan: a refused plan or a bundle with nothing new leaves no new directory.
  await requireDirectory(opts.outDir);
  emit({
    type: 'plan',
    parent: plan.parent?.id ?? null,
    full: plan.parent === null,
    snapshots: plan.snapshots.map((s) => ({ source: s.info.source, snapshot: s.info.snapshot })),
    blobs: plan.blobs.size,
    blobsSkipped: plan.blobsSkipped,
  });
  checkBlobFiles(opts.workspace, plan);
  let blobStream = 0;
  for (const size of plan.blobs.values()) blobStream += entryBytes(size);
  await requireFreeSpace(opts.outDir, blobStream, 'the bundle');

  const now = opts.now ?? new Date();
  const id = makeBundleId(now);
  const name = bundleName(id);
  await refuseExisting(opts.outDir, name);
  const bundle: BundleRecord = {
    type: 'bundle',
    format: BUNDLE_FORMAT_VERSION,
    id,
    parent: plan.parent?.id ?? null,
    createdAt: now.toISOString(),
    airlockVersion: opts.airlockVersion,
    full: plan.parent === null,
  };
  const indexPath = join(opts.outDir, `${name}.index.ndjson.tmp`);
  const sink = { current: undefined as PartSink | undefined };
  const created: string[] = [];
  try {
    const index = await writeIndexFile(indexPath, opts.workspace, plan, bundle);
    const totalBytes = tarStreamLength(index.size, plan.blobs.values());
    // The listing is about as long as the index; keep room for both beside the parts.
    await requireFreeSpace(opts.outDir, totalBytes + 2 * index.size + 65536, `bundle ${name}`);
    const names = partFileNames(name, totalBytes <= limit ? 1 : Math.ceil(totalBytes / limit));
    emit({ type: 'start', name, totalBytes, parts: names.length });
    let reported = 0;
    sink.current = await PartSink.create({
      dir: opts.outDir,
      names,
      limit: names.length === 1 ? totalBytes : limit,
      hasher,
      checkSlot: (bytes) => checker.check(bytes),
      onPart: (part) => emit({ type: 'part', ...part }),
      onBytes: (bytes) => {
        if (bytes - reported < PROGRESS_STEP && bytes !== totalBytes) return;
        reported = bytes;
        emit({ type: 'progress', bytes, totalBytes });
      },
    });
    await produceTar(sink.current, {
      indexPath,
      indexSize: index.size,
      blobs: plan.blobs,
      blobPath: (sha) => opts.workspace.blobPath(sha),
      mtime: Math.floor(now.getTime() / 1000),
      checker,
      signal: opts.signal,
    });
    const parts = await sink.current.finish();
    const contents = join(opts.outDir, contentsFileName(name));
    created.push(contents);
    const listing = await writeContentsListing(`${contents}.tmp`, contents, opts.workspace, plan, {
      name,
      id,
      parent: bundle.parent,
      createdAt: bundle.createdAt,
    });
    const release =
      opts.withRelease === undefined
        ? undefined
        : await carryRelease(opts.withRelease, opts.outDir, created);
    const summary = await finishBundle({
      outDir: opts.outDir,
      bundle,
      plan,
      index,
      contentsSha256: listing.sha256,
      parts,
      totalBytes,
      key,
      release,
      created,
    });
    const snapshots = summary.snapshots.map(({ source, snapshot }) => ({ source, snapshot }));
    const { parent, full, createdAt } = bundle;
    opts.workspace.recordBundle({ id, parent, full, createdAt, snapshots }, plan.blobs.keys());
    const done: BundleSummary = { ...summary, seconds: (performance.now() - started) / 1000 };
    emit({ type: 'done', summary: done });
    return done;
  } catch (err) {
    await sink.current?.discard();
    await Promise.all(created.map((f) => unlink(f).catch(() => undefined)));
    throw err;
  } finally {
    await unlink(indexPath).catch(() => undefined);
  }
}

function nothingNewReason(plan: BundlePlan): string {
  return plan.parent
    ? `every complete snapshot was already carried by bundle ${plan.parent.id} or its ancestors`
    : 'the workspace has no complete snapshot to bundle';
}

/** The --out directory, created when missing (a fresh USB disk has none). */
async function requireDirectory(dir: string): Promise<void> {
  let info;
  try {
    await makeDirectory(dir);
    info = await stat(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UsageError(`--out ${dir} is not a directory`, {
        hint: 'give the directory the parts go to',
      });
    }
    throw storageErrorFrom(err, 'use --out', dir);
  }
  if (!info.isDirectory()) {
    throw new UsageError(`--out ${dir} is not a directory`, {
      hint: 'give the directory the parts go to',
    });
  }
}

/**
 * Every blob must be in the workspace at its recorded size before the first byte is written.
 * Synchronous: a stat is microseconds, a round trip through the libuv pool per blob is not.
 */
function checkBlobFiles(ws: BundleWorkspace, plan: BundlePlan): void {
  for (const [sha256, size] of plan.blobs) {
    const path = ws.blobPath(sha256);
    let actual: number;
    try {
      actual = statSync(path).size;
    } catch (err) {
      throw storageErrorFrom(err, 'read workspace blob', path);
    }
    if (actual !== size) {
      throw new StorageError(
        `workspace blob ${path} holds ${actual} bytes, the workspace expects ${size}`,
        {
          hint: 'the workspace blob store is damaged: remove that file and run `airlock download` again',
        },
      );
    }
  }
}

async function refuseExisting(outDir: string, name: string): Promise<void> {
  const taken = (await readdir(outDir)).filter((f) => f.startsWith(`${name}.`));
  if (taken.length > 0) {
    throw new UsageError(
      `${join(outDir, taken[0]!)} already exists: refusing to overwrite bundle ${name}`,
      {
        hint: 'run the command again (a new bundle gets a new name), or choose another --out',
      },
    );
  }
}
