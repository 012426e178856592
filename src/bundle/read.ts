/**
 * Reads a bundle in one pass: the parts are streamed in order, each byte hashed for its part
 * and, inside the tar, for its entry in the same callback, so verifying costs one read. A
 * part whose sha256 differs fails at the end of that part, naming it; when a tar or blob
 * check fails inside a part, the rest of the part is still hashed so that the error names a
 * damaged part (re-copy it) rather than a symptom inside it.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { IntegrityError, storageErrorFrom } from '../errors.js';
import { BundleTarParser, type BundleReadHandlers } from './bundle-tar-parser.js';
import type { ManifestPart } from './manifest.js';
import { describePart, type OpenedBundle } from './open.js';

export type { BundleReadHandlers } from './bundle-tar-parser.js';

const READ_SIZE = 1024 * 1024;

export interface ReadResult {
  blobs: number;
  bytes: number;
  records: number;
}

export async function readBundle(
  bundle: OpenedBundle,
  handlers: BundleReadHandlers,
  opts: { signal?: AbortSignal } = {},
): Promise<ReadResult> {
  const parser = new BundleTarParser(bundle.manifest, handlers);
  const total = bundle.manifest.totalBytes;
  let read = 0;
  for (const part of bundle.manifest.parts) {
    const path = join(bundle.dir, part.name);
    const hash = createHash('sha256');
    let partBytes = 0;
    let failure: unknown;
    try {
      const stream = createReadStream(path, { highWaterMark: READ_SIZE, signal: opts.signal });
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        hash.update(chunk);
        partBytes += chunk.length;
        read += chunk.length;
        if (failure === undefined) {
          try {
            await parser.feed(chunk);
          } catch (err) {
            // Only a content problem is worth hashing the rest of the part for.
            if (!(err instanceof IntegrityError)) throw err;
            failure = err;
          }
        }
        handlers.onProgress?.(read, total);
      }
    } catch (err) {
      await parser.abort(err);
      if (err instanceof IntegrityError || opts.signal?.aborted) throw err;
      if (failure === undefined && isFsError(err)) throw storageErrorFrom(err, 'read', path);
      throw err;
    }
    const partError = checkPart(bundle, part, partBytes, hash.digest('hex'), failure);
    const err = partError ?? failure;
    if (err !== undefined) {
      await parser.abort(err);
      throw err;
    }
  }
  try {
    return parser.end();
  } catch (err) {
    await parser.abort(err);
    throw err;
  }
}

function checkPart(
  bundle: OpenedBundle,
  part: ManifestPart,
  size: number,
  sha256: string,
  inner: unknown,
): IntegrityError | undefined {
  const m = bundle.manifest;
  const which = describePart(m, part);
  if (size !== part.size) {
    return new IntegrityError(
      `${which} changed while it was read (${size} bytes, expected ${part.size})`,
      {
        code: 'EPART',
        hint: `re-copy part ${part.index} of ${m.partCount} from the source media and make sure nothing writes to it`,
      },
    );
  }
  if (sha256 === part.sha256) return undefined;
  const other = m.parts.find((p) => p.sha256 === sha256);
  if (other) {
    return new IntegrityError(
      `${which} holds the bytes of part ${other.index} (${other.name}): the parts were renamed or swapped`,
      {
        code: 'EPART',
        hint: `give each part its right name (compare with SHA256SUMS), or re-copy parts ${part.index} and ${other.index}`,
      },
    );
  }
  const detail = inner instanceof Error ? ` (inside it: ${inner.message})` : '';
  return new IntegrityError(`${which} does not match its sha256${detail}`, {
    code: 'EPART',
    hint: `re-copy part ${part.index} of ${m.partCount} from the source media (the copy or the medium is damaged), then run again`,
    cause: inner,
  });
}

function isFsError(err: unknown): boolean {
  return (
    typeof (err as NodeJS.ErrnoException | undefined)?.code === 'string' &&
    (err as NodeJS.ErrnoException).syscall !== undefined
  );
}
