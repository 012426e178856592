/**
 * Where an import puts the blobs a bundle carries. The bundle reader hands bodies one at a
 * time from a single tar stream, and each body verifies itself (it errors instead of ending
 * when its sha256 or size is wrong), so every body is consumed whole even when the blob is
 * already stored: draining it IS the verification, with no second read.
 *
 * On a directory, blobs stream straight to disk one after another. On S3, where each blob
 * costs a round trip or two, small bodies are buffered (verified first) and stored by a few
 * parallel uploads while the tar stream moves on; large ones stream through lib-storage's
 * multipart upload, which has its own part concurrency.
 */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pLimit from 'p-limit';
import { blobKey } from './layout.js';
import { keepErrorForConsumer } from './size-guard.js';
import type { Storage } from './storage.js';

export interface BlobSinkOptions {
  /** Blob uploads in flight at once (1 = stream each blob in order). */
  parallel: number;
  /** Bodies up to this size are buffered for a parallel upload (default 8 MiB). */
  bufferLimit?: number;
  /** Bytes buffered and not yet stored before put() waits (default 64 MiB). */
  maxBufferedBytes?: number;
  onBlob?: (sha256: string, size: number, stored: boolean) => void;
}

export class BlobSink {
  stored = 0;
  present = 0;
  bytesStored = 0;
  private readonly limit;
  private readonly pending = new Set<Promise<void>>();
  private buffered = 0;
  private failure: unknown;

  constructor(
    private readonly storage: Storage,
    private readonly opts: BlobSinkOptions,
  ) {
    this.limit = pLimit(Math.max(1, opts.parallel));
  }

  /** Consumes the body whole; rejects with the body's error when it fails its check. */
  async put(sha256: string, size: number, body: Readable): Promise<void> {
    keepErrorForConsumer(body);
    this.throwIfFailed();
    if (this.opts.parallel <= 1 || size > (this.opts.bufferLimit ?? 8 * 1024 * 1024)) {
      await this.store(
        sha256,
        size,
        () => body,
        () => drain(body),
      );
      return;
    }
    const bytes = await collect(body);
    this.buffered += bytes.length;
    const task = this.limit(() =>
      this.store(
        sha256,
        size,
        () => Readable.from([bytes]),
        async () => {},
      ),
    ).then(
      () => void (this.buffered -= bytes.length),
      (err: unknown) => {
        this.buffered -= bytes.length;
        this.failure ??= err;
      },
    );
    this.pending.add(task);
    void task.finally(() => this.pending.delete(task));
    while (this.buffered > (this.opts.maxBufferedBytes ?? 64 * 1024 * 1024) && this.pending.size) {
      await Promise.race(this.pending);
    }
    this.throwIfFailed();
  }

  /** Waits for every upload; rejects with the first failure. */
  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
    this.throwIfFailed();
  }

  private async store(
    sha256: string,
    size: number,
    body: () => Readable,
    skip: () => Promise<void>,
  ): Promise<void> {
    const key = blobKey(sha256);
    const info = await this.storage.stat(key);
    // Same size at a content-addressed key: the bytes are the same (check --deep proves it).
    if (info?.size === size) {
      await skip();
      this.present++;
      this.opts.onBlob?.(sha256, size, false);
      return;
    }
    await this.storage.writeStream(key, body(), size);
    this.stored++;
    this.bytesStored += size;
    this.opts.onBlob?.(sha256, size, true);
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}

async function drain(body: Readable): Promise<void> {
  await pipeline(body, new Writable({ write: (_chunk, _enc, done) => done() }));
}

async function collect(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
