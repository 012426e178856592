/**
 * `airlock download`: plan every selected source, check the disk, then fetch through one pool
 * and record each verified file as it lands. A failed file is reported and the rest is kept;
 * the snapshot is marked complete only when every planned file verified.
 */
import type { Dispatcher } from 'undici';
import { AirlockError, StorageError, UsageError } from '../errors.js';
import { freeBytes } from '../free-space.js';
import { formatSize } from '../size.js';
import type { Config, SourceConfig } from '../config/types.js';
import type { SnapshotEntry } from '../model.js';
import { fetchFile } from '../fetch/fetch-file.js';
import type { RateLimiter } from '../fetch/rate-limit.js';
import type { RetryEvent } from '../fetch/retry.js';
import type { Workspace } from '../workspace/workspace.js';
import { planSource, planTotals } from './plan.js';
import type {
  DownloadEvent,
  FailedFile,
  PlanContext,
  PlannedFile,
  SourcePlan,
  SourceSummary,
} from './plan-types.js';
import { runEach } from '../fetch/pool.js';
import { EntryBatcher } from './entry-batcher.js';
import type { MetadataFetchPolicy } from './planning-fetches.js';

export interface DownloadOptions {
  config: Config;
  workspace: Workspace;
  dispatcher: Dispatcher;
  sources?: string[];
  snapshot?: string;
  dryRun?: boolean;
  concurrency?: number;
  limiter?: RateLimiter;
  /** May planning fetch whole distributions to read dependencies (no PEP 658 file)? */
  metadataFetch?: MetadataFetchPolicy;
  signal?: AbortSignal;
  onEvent?: (event: DownloadEvent) => void;
  now?: Date;
}

export interface DownloadResult {
  plans: SourcePlan[];
  /** Absent for a dry run. */
  summaries?: SourceSummary[];
}

export function chooseSources(config: Config, names: string[] | undefined): SourceConfig[] {
  if (!names || names.length === 0) return config.sources;
  const known = new Map(config.sources.map((s) => [s.name, s]));
  return names.map((name) => {
    const s = known.get(name);
    if (!s) {
      throw new UsageError(`--source ${name}: no such source in ${config.file}`, {
        hint: `known sources: ${[...known.keys()].join(', ')}`,
      });
    }
    return s;
  });
}

export async function planDownload(opts: DownloadOptions): Promise<SourcePlan[]> {
  const ctx = planContext(opts);
  const plans: SourcePlan[] = [];
  for (const source of chooseSources(opts.config, opts.sources)) {
    const plan = await planSource(ctx, source, opts.snapshot);
    const t = planTotals(plan);
    opts.onEvent?.({
      type: 'planned',
      source: source.name,
      snapshot: plan.descriptor.snapshot,
      files: t.files,
      present: t.present,
      bytes: t.bytes,
      unknownSizes: t.unknownSizes,
    });
    plans.push(plan);
  }
  return plans;
}

export async function runDownload(opts: DownloadOptions): Promise<DownloadResult> {
  const plans = await planDownload(opts);
  if (opts.dryRun) return { plans };
  await checkFreeSpace(opts.workspace.dir, plans);
  const summaries: SourceSummary[] = [];
  for (const plan of plans) {
    if (opts.signal?.aborted) break;
    summaries.push(await fetchPlan(opts, plan));
  }
  return { plans, summaries };
}

function planContext(opts: DownloadOptions): PlanContext {
  const ctx: PlanContext = {
    config: opts.config,
    dispatcher: opts.dispatcher,
    workspace: opts.workspace,
    now: opts.now ?? new Date(),
  };
  if (opts.signal) ctx.signal = opts.signal;
  if (opts.onEvent) ctx.onEvent = opts.onEvent;
  if (opts.limiter) ctx.limiter = opts.limiter;
  // Planning's retries are reported like the transfers' (a dead upstream is not silence).
  ctx.onRetry = (e) => opts.onEvent?.(retryEvent('', e));
  if (opts.metadataFetch) ctx.metadataFetch = opts.metadataFetch;
  // Only a dry run asks: a real run learns every size as it fetches.
  if (opts.dryRun) ctx.sizeUnknown = true;
  return ctx;
}

async function checkFreeSpace(dir: string, plans: SourcePlan[]): Promise<void> {
  let needed = 0;
  for (const plan of plans) needed += planTotals(plan).newBytes;
  const free = await freeBytes(dir);
  if (needed > free) {
    throw new StorageError(
      `the plan needs ${formatSize(needed)} but ${dir} has only ${formatSize(free)} free`,
      {
        code: 'ENOSPC',
        hint: 'free space, choose a workspace on a larger disk, or narrow the sources (--source, packages:)',
      },
    );
  }
}

async function fetchPlan(opts: DownloadOptions, plan: SourcePlan): Promise<SourceSummary> {
  const started = Date.now();
  const name = plan.source.name;
  const ws = opts.workspace;
  const totals = planTotals(plan);
  opts.onEvent?.({
    type: 'fetch-start',
    source: name,
    snapshot: plan.descriptor.snapshot,
    files: totals.files,
    bytes: totals.bytes,
  });
  const snapshotId = ws.beginSnapshot(plan.descriptor);
  // state.db names a blob only once its directory entry is durable (BlobStore.commit).
  await ws.blobs.syncDirectories();
  ws.addEntries(snapshotId, plan.indexes);
  const batch = new EntryBatcher(async (entries) => {
    await ws.blobs.syncDirectories();
    ws.addEntries(snapshotId, entries);
  });
  const summary: SourceSummary = {
    source: name,
    snapshot: plan.descriptor.snapshot,
    planned: plan.files.length,
    fetched: 0,
    skipped: 0,
    failed: 0,
    bytes: 0,
    transferred: 0,
    seconds: 0,
    complete: false,
    failures: [],
  };
  const fetchedAt = () => new Date().toISOString();
  const poolOptions = {
    concurrency: opts.concurrency ?? opts.config.concurrency,
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  const fetchOne = async (file: PlannedFile): Promise<void> => {
    // The file is the truth: a blob deleted by hand since planning is fetched again.
    const presentSize = file.present === undefined ? undefined : await ws.blobs.size(file.present);
    if (file.present !== undefined && presentSize !== undefined) {
      batch.add(entryOf(file, file.present, presentSize, fetchedAt()));
      summary.skipped++;
      summary.bytes += presentSize;
      opts.onEvent?.({
        type: 'file',
        source: name,
        path: file.path,
        variant: file.variant,
        bytes: presentSize,
        transferred: 0,
        skipped: true,
      });
      return;
    }
    try {
      const got = await fetchFile(
        { url: file.url, headers: file.headers ?? {}, expected: expectedOf(file) },
        {
          dispatcher: opts.dispatcher,
          store: ws.blobs,
          ...(opts.limiter ? { limiter: opts.limiter } : {}),
          ...(opts.signal ? { signal: opts.signal } : {}),
          onProgress: (delta: number) =>
            opts.onEvent?.({ type: 'progress', source: name, bytes: delta }),
          onRetry: (e) => opts.onEvent?.(retryEvent(name, e)),
        },
      );
      batch.add({ ...entryOf(file, got.sha256, got.size, fetchedAt()), md5: got.md5 });
      summary.fetched++;
      summary.bytes += got.size;
      summary.transferred += got.bytesTransferred;
      opts.onEvent?.({
        type: 'file',
        source: name,
        path: file.path,
        variant: file.variant,
        bytes: got.size,
        transferred: got.bytesTransferred,
        skipped: false,
      });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      if (!(err instanceof AirlockError)) throw err;
      const failure: FailedFile = {
        url: file.url,
        path: file.path,
        variant: file.variant,
        reason: err.message,
        code: err.code,
        exitCode: err.exitCode,
      };
      summary.failed++;
      summary.failures.push(failure);
      opts.onEvent?.({
        type: 'failed',
        source: name,
        url: file.url,
        path: file.path,
        variant: file.variant,
        reason: err.message,
        code: err.code,
      });
    }
  };
  try {
    const broken = await runEach(plan.files, fetchOne, poolOptions);
    // Anything but an AirlockError is a bug (or the abort): surface it, after the batch is saved.
    if (broken !== undefined) throw broken.error;
  } finally {
    await batch.flush();
    summary.seconds = (Date.now() - started) / 1000;
  }
  if (summary.failed === 0 && !opts.signal?.aborted) {
    ws.completeSnapshot(snapshotId);
    summary.complete = true;
  }
  opts.onEvent?.({ type: 'source-done', source: name, summary });
  return summary;
}

function retryEvent(
  source: string,
  e: RetryEvent & { url: string; reason: string },
): DownloadEvent {
  const { attempt, of, delayMs, url, reason } = e;
  return { type: 'retry', source, url, attempt, of, delayMs, reason };
}

function expectedOf(file: PlannedFile): { sha256?: string; md5?: string; size?: number } {
  const e: { sha256?: string; md5?: string; size?: number } = {};
  if (file.upstreamHash?.algorithm === 'sha256') e.sha256 = file.upstreamHash.value;
  if (file.upstreamHash?.algorithm === 'md5') e.md5 = file.upstreamHash.value;
  if (file.size !== undefined) e.size = file.size;
  return e;
}

function entryOf(
  file: PlannedFile,
  sha256: string,
  size: number,
  fetchedAt: string,
): SnapshotEntry {
  const entry: SnapshotEntry = {
    path: file.path,
    variant: file.variant,
    role: file.role,
    sha256,
    size,
    provenance: { url: file.url, fetchedAt },
  };
  if (file.package !== undefined) entry.package = file.package;
  if (file.version !== undefined) entry.version = file.version;
  if (file.upstreamHash) entry.provenance.upstreamHash = file.upstreamHash;
  return entry;
}
