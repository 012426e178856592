/**
 * Response body → partial file, hashed on the way. The hashes are fed from the body's 'data'
 * listener: the same chunks in the same order as the file gets them. Chunks that arrive while
 * a write is in flight are gathered and written with one writev; no Writable stream sits in
 * between (it cost a fifth of a large download's CPU in per-chunk bookkeeping).
 *
 * When the body fails (reset, stall, abort) every byte that arrived is still written to the
 * .part, so the next attempt resumes from all of it. A body that ended cleanly is fsynced
 * before the close (the file is usually committed next, and this spares the commit an open +
 * fsync + close of its own). The promise settles only after the file is closed, so a following
 * attempt that appends to the same file can never race a late write of this one.
 */
import type { Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { storageErrorFrom } from '../errors.js';
import type { TempNames } from './partial-file.js';
import type { RateLimiter } from './rate-limit.js';

export interface StreamToPartOptions {
  append: boolean;
  /** Told of the file before it is created (so a later attempt knows it may exist). */
  temps: Pick<TempNames, 'noteTemp'>;
  sha256: Hash;
  md5: Hash | undefined;
  limiter?: RateLimiter;
  /** Bytes of each chunk as it arrives from the network. */
  onChunk?: (bytes: number) => void;
}

/**
 * Bytes received but not yet written beyond which the socket is no longer read. 256 KiB, not
 * 1 MiB: larger gathered writes cost more system time than they saved in syscalls (1.3 GB over
 * 7 connections, paired runs: system 2.25 -> 1.71 s, wall 4.08 -> 3.75 s; 128 KiB and 512 KiB
 * measured the same as 256 KiB).
 */
const MAX_QUEUED_BYTES = 256 * 1024;

/** Resolves with the body bytes written; rejects with the body's error after writing them. */
export function streamToPart(
  body: Readable,
  path: string,
  opts: StreamToPartOptions,
): Promise<number> {
  const { sha256, md5, onChunk, limiter } = opts;
  // The caller awaits other I/O between receiving the headers and calling us; a reset in that
  // gap destroys the body before we listen, and a destroyed stream emits nothing more.
  if (body.destroyed) return Promise.reject(body.errored ?? prematureClose());
  opts.temps.noteTemp(path);

  return new Promise<number>((resolve, reject) => {
    let received = 0;
    let queue: Buffer[] = [];
    let queuedBytes = 0;
    let handle: FileHandle | undefined;
    let writing = false;
    let bodyDone = false;
    let bodyError: unknown;
    let fileError: unknown;
    let settled = false;
    // Two reasons to stop reading the socket (a full queue, the rate limit): paused while any holds.
    let holds = 0;
    let queueFull = false;
    const hold = () => {
      if (holds++ === 0) body.pause();
    };
    const release = () => {
      if (--holds === 0 && !bodyDone) body.resume();
    };

    const settle = async () => {
      if (settled) return;
      settled = true;
      if (handle !== undefined) {
        try {
          if (fileError === undefined && bodyError === undefined) await handle.sync();
        } catch (error) {
          fileError = storageErrorFrom(error, 'fsync partial download', path);
        }
        try {
          await handle.close();
        } catch (error) {
          fileError ??= storageErrorFrom(error, 'close partial download', path);
        }
      }
      if (fileError !== undefined) reject(fileError);
      else if (bodyError !== undefined) reject(bodyError);
      else resolve(received);
    };

    // One writer at a time; it drains the queue, then settles once the body is done.
    const pump = async () => {
      if (writing || settled) return;
      writing = true;
      try {
        handle ??= await open(path, opts.append ? 'a' : 'w');
        while (queue.length > 0) {
          const buffers = queue;
          queue = [];
          queuedBytes = 0;
          if (queueFull) {
            queueFull = false;
            release();
          }
          await writeAll(handle, buffers);
        }
      } catch (error) {
        fileError = storageErrorFrom(error, 'write partial download', path);
        queue = [];
        body.destroy();
      }
      writing = false;
      if (bodyDone || fileError !== undefined) await settle();
    };

    body.on('data', (chunk: Buffer) => {
      if (fileError !== undefined) return;
      received += chunk.length;
      sha256.update(chunk);
      md5?.update(chunk);
      onChunk?.(chunk.length);
      queue.push(chunk);
      queuedBytes += chunk.length;
      if (queuedBytes >= MAX_QUEUED_BYTES && !queueFull) {
        queueFull = true;
        hold();
      }
      const wait = limiter?.reserve(chunk.length) ?? 0;
      if (wait > 0) {
        hold();
        setTimeout(release, wait);
      }
      void pump();
    });
    const done = (error?: unknown) => {
      if (error !== undefined) bodyError ??= error;
      bodyDone = true;
      void pump();
    };
    body.once('end', () => done());
    body.once('error', (error) => done(error));
    body.once('close', () => {
      if (!body.readableEnded) done(prematureClose());
    });
  });
}

/** writev until every byte is written (a regular file may take fewer bytes than offered). */
async function writeAll(handle: FileHandle, buffers: Buffer[]): Promise<void> {
  let pending = buffers;
  while (pending.length > 0) {
    const { bytesWritten } = await handle.writev(pending);
    pending = afterWritten(pending, bytesWritten);
  }
}

function afterWritten(buffers: Buffer[], written: number): Buffer[] {
  let skip = written;
  let i = 0;
  while (i < buffers.length && skip >= buffers[i]!.length) skip -= buffers[i++]!.length;
  if (i === buffers.length) return [];
  return [buffers[i]!.subarray(skip), ...buffers.slice(i + 1)];
}

function prematureClose(): Error {
  return Object.assign(new Error('the response body closed before it ended'), {
    code: 'ERR_STREAM_PREMATURE_CLOSE',
  });
}
