/**
 * Produces the bundle's tar stream into a PartSink: index.ndjson first, then one
 * `blobs/<sha256>` entry per blob, streamed from the workspace's blob files with no
 * temporary copy, then the two zero blocks. Each blob is hashed on the way through, so a blob
 * that rotted in the workspace is caught here rather than on the far side of the gap.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { IntegrityError, StorageError, storageErrorFrom } from '../errors.js';
import { END_OF_ARCHIVE, encodeFileHeader, entryBytes, paddedSize } from './tar-header.js';
import type { PartSink } from './part-sink.js';

const READ_SIZE = 1024 * 1024;
const ZEROS = Buffer.alloc(END_OF_ARCHIVE);

export const INDEX_ENTRY = 'index.ndjson';

export function blobEntryName(sha256: string): string {
  return `blobs/${sha256}`;
}

/** The exact length of the stream, known before a byte is written. */
export function tarStreamLength(indexSize: number, blobSizes: Iterable<number>): number {
  let total = entryBytes(indexSize) + END_OF_ARCHIVE;
  for (const size of blobSizes) total += entryBytes(size);
  return total;
}

export interface TarSources {
  indexPath: string;
  indexSize: number;
  blobs: Map<string, number>;
  blobPath(sha256: string): string;
  /** Seconds since the epoch: every entry's mtime. */
  mtime: number;
  signal?: AbortSignal;
}

export async function produceTar(sink: PartSink, src: TarSources): Promise<void> {
  await sink.write(encodeFileHeader(INDEX_ENTRY, src.indexSize, src.mtime));
  await copyFile(sink, src.indexPath, src.indexSize, undefined, src.signal);
  await pad(sink, src.indexSize);
  for (const [sha256, size] of src.blobs) {
    src.signal?.throwIfAborted();
    await sink.write(encodeFileHeader(blobEntryName(sha256), size, src.mtime));
    await copyFile(sink, src.blobPath(sha256), size, sha256, src.signal);
    await pad(sink, size);
  }
  await sink.write(ZEROS);
}

async function pad(sink: PartSink, size: number): Promise<void> {
  const padding = paddedSize(size) - size;
  if (padding > 0) await sink.write(ZEROS.subarray(0, padding));
}

/** Streams exactly `size` bytes of a file into the sink, checking its sha256 when given. */
async function copyFile(
  sink: PartSink,
  path: string,
  size: number,
  sha256: string | undefined,
  signal: AbortSignal | undefined,
): Promise<void> {
  const hash = sha256 === undefined ? undefined : createHash('sha256');
  let seen = 0;
  if (size > 0) {
    const stream = createReadStream(path, { highWaterMark: READ_SIZE, end: size - 1, signal });
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        hash?.update(chunk);
        seen += chunk.length;
        await sink.write(chunk);
      }
    } catch (err) {
      if (err instanceof StorageError || signal?.aborted) throw err;
      throw storageErrorFrom(err, 'read', path);
    }
  }
  if (seen !== size) {
    throw new IntegrityError(`${path} holds ${seen} bytes, the workspace expects ${size}`, {
      hint: 'the workspace blob store is damaged: run `airlock download` again to re-fetch it',
    });
  }
  const actual = hash?.digest('hex');
  if (actual !== undefined && actual !== sha256) {
    throw new IntegrityError(`${path} does not match its sha256 (it holds ${actual})`, {
      hint: 'the workspace blob store is damaged: remove that file and run `airlock download` again',
    });
  }
}
