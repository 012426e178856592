/**
 * Response body → (shared rate limit) → partial file, hashed on the way. The hashes are fed
 * from a 'data' listener on the body: the same chunks in the same order as the file gets them,
 * with no extra stream hop, copy or promise per chunk.
 *
 * When the body fails (reset, stall, abort) the file is ended, not destroyed: every byte that
 * arrived is flushed to the .part, so the next attempt resumes from all of it. The promise
 * settles only after the file descriptor is closed, so a following attempt that appends to
 * the same file can never race a late write of this one.
 */
import type { Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
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

/** Resolves with the body bytes written; rejects with the body's error after flushing. */
export function streamToPart(
  body: Readable,
  path: string,
  opts: StreamToPartOptions,
): Promise<number> {
  const { sha256, md5, onChunk } = opts;
  // The caller awaits other I/O between receiving the headers and calling us; a reset in that
  // gap destroys the body before we listen, and a destroyed stream emits nothing more.
  if (body.destroyed) return Promise.reject(body.errored ?? prematureClose());
  opts.temps.noteTemp(path);
  // 1 MiB buffers let the file stream gather many socket chunks into one writev. `flush`
  // fsyncs before the close: the file is usually committed next, and this saves the commit
  // an open + fsync + close of its own (a partial cut short is synced too, which is harmless).
  const file = createWriteStream(path, {
    flags: opts.append ? 'a' : 'w',
    highWaterMark: 1 << 20,
    flush: true,
  });
  const throttle = opts.limiter?.throttle();
  let received = 0;
  let failure: unknown;

  body.on('data', (chunk: Buffer) => {
    received += chunk.length;
    sha256.update(chunk);
    md5?.update(chunk);
    onChunk?.(chunk.length);
  });
  const last: Writable = throttle ?? file;
  if (throttle !== undefined) throttle.pipe(file);
  body.pipe(last);

  return new Promise<number>((resolve, reject) => {
    const stopBody = (error: unknown) => {
      if (failure !== undefined) return;
      failure = error;
      body.unpipe(last);
      last.end();
    };
    body.once('error', stopBody);
    body.once('close', () => {
      if (!body.readableEnded) stopBody(prematureClose());
    });
    file.once('error', (error) => {
      failure = storageErrorFrom(error, 'write partial download', path);
      body.destroy();
    });
    file.once('close', () => (failure === undefined ? resolve(received) : reject(failure)));
  });
}

function prematureClose(): Error {
  return Object.assign(new Error('the response body closed before it ended'), {
    code: 'ERR_STREAM_PREMATURE_CLOSE',
  });
}
