/**
 * METADATA for the Python closure: the PEP 658 `.metadata` file when the index offers one
 * (sha256-checked), else the distribution itself, fetched into the workspace through the
 * normal verified pipeline with the run's limits (planning-fetches.ts; not at all under
 * `--metadata-fetch never`) (so the run that follows finds it present and never fetches it
 * twice) and read there: a wheel's `*.dist-info/METADATA`, an sdist's PKG-INFO with the dependencies it
 * does not state with authority read from elsewhere in it (sdist-metadata.ts).
 */
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { IntegrityError, NetworkError, storageErrorFrom } from '../errors.js';
import { fetchBytes } from '../fetch/fetch-bytes.js';
import type { FetchedFile } from '../fetch/fetch-file.js';
import { readWheelMetadata } from '../upstream/core-metadata.js';
import { classifyFilename } from '../upstream/dist-filename.js';
import type { PypiFile } from '../upstream/pypi-file.js';
import type { PlanContext } from './plan-types.js';
import { planFetchOptions } from './plan-fetch-options.js';
import { fetchForMetadata } from './planning-fetches.js';
import { isAuthoritative, readSdistMetadata } from './sdist-metadata.js';
import { storeBytes } from './store-index.js';

export interface MetadataHooks {
  /** A distribution whose metadata could not be read: carried, its dependencies not followed. */
  onUnreadable: (file: PypiFile, why: string) => void;
  /** A whole distribution is about to be fetched (no PEP 658 file) to read its metadata. */
  onFetching?: (file: PypiFile) => void;
  /** A whole distribution was fetched (no PEP 658 file) to read its metadata. */
  onFetched: (file: PypiFile, got: FetchedFile) => void;
  /** Under `--metadata-fetch never`: a distribution not fetched, its dependencies not read. */
  onWithheld?: (file: PypiFile) => void;
  /** An sdist whose dependencies no file in it states with authority: carried, not followed. */
  onUnknownDependencies: (file: PypiFile, why: string) => void;
}

export function createMetadataLoader(
  ctx: PlanContext,
  hooks: MetadataHooks,
): (file: PypiFile) => Promise<string> {
  return async (file) => {
    // Most of a re-run's planning reads the workspace, not the network: without this check a
    // stop request would wait for the whole plan.
    ctx.signal?.throwIfAborted();
    const sdist = !file.filename.endsWith('.whl');
    if (file.coreMetadata !== false) {
      const text = await fetchPep658(ctx, file);
      // An sdist's .metadata is its PKG-INFO: without authority (PEP 643) the sdist is read.
      if (text !== undefined && (!sdist || isAuthoritative(text))) return text;
    }
    const held = file.sha256 !== undefined && ctx.workspace.hasBlob(file.sha256);
    if (!held && ctx.metadataFetch === 'never') {
      hooks.onWithheld?.(file);
      return placeholderMetadata(file);
    }
    if (!held) hooks.onFetching?.(file);
    const got = await fetchForMetadata(ctx, file, expectedOf(file));
    if (got.attempts > 0) hooks.onFetched(file, got);
    const path = ctx.workspace.blobPath(got.sha256);
    try {
      if (file.filename.endsWith('.whl')) return await readWheelMetadata(path, got.size);
      if (/\.(tar\.gz|tgz)$/i.test(file.filename)) {
        const read = await readSdistMetadata(path, file.filename);
        if (read.unknown !== undefined) hooks.onUnknownDependencies(file, read.unknown);
        return read.text;
      }
      // Legacy .zip / .tar.bz2 sdists: carried, and named as a problem, not passed silently.
      hooks.onUnknownDependencies(file, 'airlock reads only .tar.gz sdists and wheels');
      return placeholderMetadata(file);
    } catch (err) {
      // A broken archive upstream should not sink the whole plan: the file is still carried as
      // selected, and the plan says its dependencies were not followed.
      if (!(err instanceof IntegrityError)) throw err;
      hooks.onUnreadable(file, err.message);
      return placeholderMetadata(file);
    }
  };
}

/** The `.metadata` text, or undefined when the upstream advertised one it does not serve. */
async function fetchPep658(ctx: PlanContext, file: PypiFile): Promise<string | undefined> {
  const url = `${file.url}.metadata`;
  const known = file.coreMetadata === false ? undefined : file.coreMetadata.sha256;
  // A re-run (or the closure asking again) reads what an earlier fetch stored, not the network.
  const stored = known === undefined ? undefined : await storedMetadata(ctx, known);
  if (stored !== undefined) return stored;
  let body: Buffer;
  try {
    body = (await fetchBytes(url, planFetchOptions(ctx))).body;
  } catch (err) {
    if (err instanceof NetworkError && (err.status === 404 || err.status === 410)) return undefined;
    throw err;
  }
  const expected = file.coreMetadata === false ? undefined : file.coreMetadata.sha256;
  const actual = createHash('sha256').update(body).digest('hex');
  if (expected !== undefined && actual !== expected) {
    throw new IntegrityError(`${url}: sha256 ${actual} differs from the index's ${expected}`, {
      code: 'EHASH',
      hint: 'the upstream served a different metadata file than its index lists; run again later or report it upstream',
    });
  }
  // Kept in the workspace: with `metadata: true` the run carries this very file.
  await storeBytes(ctx.workspace, body);
  return body.toString('utf8');
}

/** A stored `.metadata` blob, re-hashed: a rotted one is fetched again, never parsed. */
async function storedMetadata(ctx: PlanContext, sha256: string): Promise<string | undefined> {
  const path = ctx.workspace.blobPath(sha256);
  let body: Buffer;
  try {
    body = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw storageErrorFrom(err, 'read', path);
  }
  if (createHash('sha256').update(body).digest('hex') === sha256) return body.toString('utf8');
  await rm(path, { force: true });
  return undefined;
}

function expectedOf(file: PypiFile): { sha256?: string; size?: number } {
  const e: { sha256?: string; size?: number } = {};
  if (file.sha256 !== undefined) e.sha256 = file.sha256;
  if (file.size !== undefined) e.size = file.size;
  return e;
}

function placeholderMetadata(file: PypiFile): string {
  const dist = classifyFilename(file.filename);
  const version = dist.kind === 'other' ? '0' : dist.version;
  return `Metadata-Version: 2.1\nName: ${file.filename}\nVersion: ${version}\n\n`;
}
