/**
 * Turns a --repo value into a Storage: `s3://bucket/prefix` is S3 (or an S3-compatible store
 * when an endpoint is given), anything else a directory.
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError, storageErrorFrom } from '../errors.js';
import { makeDirectory } from '../make-directory.js';
import { FsStorage } from './fs-storage.js';
import type { Storage } from './storage.js';

export interface OpenStorageOptions {
  /** S3-compatible endpoint (else AWS_ENDPOINT_URL); implies path-style addressing. */
  s3Endpoint?: string;
  /** Else AWS_REGION, AWS_DEFAULT_REGION, then 'us-east-1'. */
  region?: string;
  /** Explicit S3 credentials (tests); otherwise the SDK's default credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Create a missing directory (import does; status, check and serve refuse a missing one). */
  create?: boolean;
}

export async function openStorage(
  location: string,
  opts: OpenStorageOptions = {},
): Promise<Storage> {
  if (location.startsWith('s3://')) return openS3(location, opts);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw new UsageError(`unsupported repository location ${location}`, {
      hint: 'use a directory path or s3://bucket/prefix',
    });
  }
  return openDirectory(resolve(location), opts.create ?? false);
}

export function parseS3Url(location: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(location);
  const bucket = match?.[1];
  if (!bucket || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new UsageError(`not a valid S3 location: ${location}`, {
      hint: 'write it as s3://bucket/prefix (bucket names are lowercase letters, digits, dots and dashes)',
    });
  }
  const prefix = (match?.[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix.split('/').some((s) => s === '.' || s === '..' || (prefix !== '' && s === ''))) {
    throw new UsageError(`not a valid S3 prefix in ${location}`, {
      hint: 'use a prefix without empty, "." or ".." segments',
    });
  }
  return { bucket, prefix };
}

/** Tries per S3 call, the first included (see openS3). */
export const MAX_ATTEMPTS = 6;

// The AWS SDK is loaded only for an s3:// location: it is most of the CLI's start-up time
// (about 0.15 s of CPU), which a directory import or serve would pay for nothing.
async function openS3(location: string, opts: OpenStorageOptions): Promise<Storage> {
  const { bucket, prefix } = parseS3Url(location);
  const { S3Client } = await import('@aws-sdk/client-s3');
  const { S3Storage } = await import('./s3-storage.js');
  const endpoint = opts.s3Endpoint ?? process.env.AWS_ENDPOINT_URL;
  const region = opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  const client = new S3Client({
    region: region ?? 'us-east-1',
    // Every call goes through this client's retry strategy: 500/502/503/504, SlowDown and the
    // other throttling codes, timeouts and connection errors (reset, refused, DNS) are retried
    // with exponential backoff and jitter, up to MAX_ATTEMPTS tries in all. ('adaptive' mode,
    // which also rate-limits the client after a throttle, was slower with no throttling at
    // all in the one comparison made: 22 s against 13 s for 1,234 uploads to s3rver.) Multipart parts and small objects
    // are buffers, so every write can be retried; only a GetObject body that breaks
    // mid-stream is not (its reader sees the error: serve cuts that response, check reports it).
    maxAttempts: MAX_ATTEMPTS,
    retryMode: 'standard',
    // Without a connect timeout a black-holed endpoint hangs the command; a refused or timed
    // out connection is retried like any other transient failure.
    requestHandler: { connectionTimeout: 10_000 },
    // S3-compatible stores rarely understand virtual-host bucket names on a custom endpoint.
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
    // Many S3-compatible stores reject or mangle the SDK's default CRC32 trailing checksums;
    // integrity is ours anyway (every blob is named and checked by its sha256).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return new S3Storage({ bucket, prefix, client });
}

async function openDirectory(root: string, create: boolean): Promise<Storage> {
  try {
    const info = await stat(root);
    if (!info.isDirectory()) {
      throw new UsageError(`repository ${root} is not a directory`, {
        hint: 'give --repo a directory (or s3://bucket/prefix)',
      });
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      if (err instanceof UsageError) throw err;
      throw storageErrorFrom(err, 'open repository', root);
    }
    if (!create) {
      throw new UsageError(`repository ${root} does not exist`, {
        hint: 'check the --repo path; a repository is created by its first `airlock import`',
      });
    }
    try {
      await makeDirectory(root);
    } catch (mkdirErr) {
      throw storageErrorFrom(mkdirErr, 'create repository directory', root);
    }
  }
  if (create) await refuseWorkspace(root);
  return new FsStorage(root);
}

// Both sides clean their tmp/ of what crashed runs left: sharing a directory, each would
// remove the other's files in flight.
async function refuseWorkspace(root: string): Promise<void> {
  const isWorkspace = await stat(join(root, 'state.db')).then(
    () => true,
    () => false,
  );
  if (isWorkspace) {
    throw new UsageError(
      `${root} is an airlock workspace (it holds state.db): a repository cannot share its directory`,
      { hint: 'give --repo a directory of its own (the workspace stays where it is)' },
    );
  }
}
