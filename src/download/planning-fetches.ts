/**
 * Fetches that planning makes to read dependencies: whole distributions, when the upstream
 * offers no PEP 658 metadata file. They are real downloads into the workspace, so they obey
 * what every fetch obeys (the run's rate limit, its dispatcher with the proxy and connection
 * cap, retries, and a free-space check before the first byte), and they are counted, so the
 * plan and the summary say what planning transferred instead of calling it "already present".
 */
import { StorageError } from '../errors.js';
import { freeBytes } from '../free-space.js';
import { fetchFile, type FetchedFile } from '../fetch/fetch-file.js';
import { formatSize } from '../size.js';
import type { PypiFile } from '../upstream/pypi-file.js';
import type { PlanContext } from './plan-types.js';

/** `--metadata-fetch`: may planning fetch whole distributions to read their dependencies? */
export type MetadataFetchPolicy = 'always' | 'never';

export interface MetadataFetches {
  /** Distributions fetched while planning, their size and the bytes that crossed the network. */
  files: number;
  bytes: number;
  transferred: number;
  /** Under `--metadata-fetch never`: distributions not fetched, so their dependencies unknown. */
  withheld: number;
  withheldBytes: number;
  /** Of the withheld ones, how many the index gives no size for. */
  withheldUnknownSizes: number;
}

export function noMetadataFetches(): MetadataFetches {
  return {
    files: 0,
    bytes: 0,
    transferred: 0,
    withheld: 0,
    withheldBytes: 0,
    withheldUnknownSizes: 0,
  };
}

/**
 * Bytes promised to planning fetches still running: several run at once, and each must find
 * room for itself beside the others, not just beside what is on disk now.
 */
const reservedByDir = new Map<string, number>();

export async function fetchForMetadata(
  ctx: PlanContext,
  file: PypiFile,
  expected: { sha256?: string; size?: number },
): Promise<FetchedFile> {
  const dir = ctx.workspace.dir;
  const size = expected.size ?? 0;
  const reserved = (reservedByDir.get(dir) ?? 0) + size;
  reservedByDir.set(dir, reserved);
  try {
    if (expected.sha256 === undefined || !ctx.workspace.hasBlob(expected.sha256)) {
      await requireRoom(dir, reserved, file);
    }
    return await fetchFile(
      { url: file.url, expected },
      {
        dispatcher: ctx.dispatcher,
        store: ctx.workspace.blobs,
        ...(ctx.limiter ? { limiter: ctx.limiter } : {}),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        ...(ctx.onRetry ? { onRetry: ctx.onRetry } : {}),
      },
    );
  } finally {
    const left = (reservedByDir.get(dir) ?? size) - size;
    if (left > 0) reservedByDir.set(dir, left);
    else reservedByDir.delete(dir);
  }
}

async function requireRoom(dir: string, needed: number, file: PypiFile): Promise<void> {
  const free = await freeBytes(dir);
  if (needed <= free) return;
  throw new StorageError(
    `planning needs ${formatSize(needed)} to fetch ${file.filename} (and the distributions fetched beside it) to read its dependencies, but ${dir} has only ${formatSize(free)} free`,
    {
      code: 'ENOSPC',
      hint: 'free space, choose a workspace on a larger disk, or plan without fetching whole distributions (--metadata-fetch never: their dependencies are then reported as unknown)',
    },
  );
}
