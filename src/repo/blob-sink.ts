/**
 * Where an import puts the blobs a bundle carries. The bundle reader hands bodies one at a
 * time from a single tar stream, and each body verifies itself (it errors instead of ending
 * when its sha256 or size is wrong), so every body is consumed whole even when the blob is
 * already stored: draining it IS the verification, with no second read.
 *
 * A small body is buffered (verified first, since it ends only when its hash matched) and
 * stored by a bounded pool of writes while the reader moves on to the next entry: on a
 * directory each blob costs an fsync, on S3 a round trip, and both overlap well. A large body
 * streams straight to the backend while the reader waits; once the body has ended (verified),
 * the backend's commit (fsync and rename; on S3 the last parts and the completion) finishes
 * while the reader moves on, one large write at a time. Memory stays bounded by
 * `maxBufferedBytes` plus one large write, whatever the bundle's size.
 *
 * A backend with writeBatch (the directory) gets the small blobs in batches instead: one
 * batch fills while the previous ones are made durable, and each batch's fsyncs overlap. A
 * batch is gathered in a slot of shared memory (BatchSlots) that the writer thread reads in
 * place, so batches cost a fixed few MB and leave no garbage behind.
 *
 * Blob names are written with `deferNameSync`: flush() makes them durable together before the
 * importer writes the snapshot documents that name them (see Storage.syncDeferred).
 */
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { IntegrityError } from '../errors.js';
import { BatchSlots, type Slot } from './batch-slots.js';
import { blobKey } from './layout.js';
import { keepErrorForConsumer } from './size-guard.js';
import type { Storage } from './storage.js';

export interface BlobSinkOptions {
  /** Buffered blob writes in flight at once. */
  parallel: number;
  /** Bodies up to this size are buffered and stored by the pool (default 1 MiB). */
  bufferLimit?: number;
  /** Bytes buffered and not yet stored before put() waits (default 32 MiB). */
  maxBufferedBytes?: number;
  onBlob?: (sha256: string, size: number, stored: boolean) => void;
}

const DEFER = { deferNameSync: true } as const;
const BATCH = { deferNameSync: true, keepSameSize: true } as const;
/** A batch is handed over at this many blobs or bytes, whichever comes first. */
const BATCH_BLOBS = 64;
const BATCH_BYTES = 4 * 1024 * 1024;
/** One batch being made durable while the next fills is enough to keep the writer busy. */
const BATCHES_IN_FLIGHT = 2;

interface Buffered {
  key: string;
  sha256: string;
  bytes: Buffer;
}

export class BlobSink {
  stored = 0;
  present = 0;
  bytesStored = 0;
  private readonly pending = new Set<Promise<void>>();
  private buffered = 0;
  private failure: unknown;
  /** The commit of the last large write, still running behind the reader. */
  private largeTail: Promise<void> = Promise.resolve();
  private readonly parallel: number;
  private readonly bufferLimit: number;
  private readonly maxBuffered: number;
  private batch: Buffered[] = [];
  private batchBytes = 0;
  /** Holds the bytes of the batch being filled. */
  private slot: Slot | undefined;
  private readonly slots: BatchSlots;

  constructor(
    private readonly storage: Storage,
    private readonly opts: BlobSinkOptions,
  ) {
    this.parallel = Math.max(1, opts.parallel);
    this.bufferLimit = opts.bufferLimit ?? 1024 * 1024;
    this.maxBuffered = opts.maxBufferedBytes ?? 32 * 1024 * 1024;
    // The batches being stored, and the one being filled.
    this.slots = new BatchSlots(BATCHES_IN_FLIGHT + 1, Math.max(BATCH_BYTES, this.bufferLimit));
  }

  /** Consumes the body whole; rejects with the body's error when it fails its check. */
  async put(sha256: string, size: number, body: Readable): Promise<void> {
    keepErrorForConsumer(body);
    this.throwIfFailed();
    const key = blobKey(sha256);
    if (size > this.bufferLimit) {
      await this.storeStream(key, sha256, size, body);
      return;
    }
    if (this.storage.writeBatch) {
      await this.putInBatch(key, sha256, size, body);
      return;
    }
    const bytes = await collect(body, size, key, Buffer.allocUnsafeSlow(size));
    this.buffered += size;
    await this.startTask(this.storeBuffer(key, sha256, bytes), size);
  }

  private async putInBatch(key: string, sha256: string, size: number, body: Readable) {
    if (this.slot && this.batchBytes + size > this.slot.bytes.length) await this.handOverBatch();
    this.slot ??= await this.slots.acquire();
    const bytes = await collect(body, size, key, this.slot.bytes.subarray(this.batchBytes));
    this.buffered += size;
    this.batch.push({ key, sha256, bytes });
    this.batchBytes += size;
    if (this.batch.length >= BATCH_BLOBS || this.batchBytes >= BATCH_BYTES)
      await this.handOverBatch();
  }

  /** Stores the batch being filled; its slot is free again once the store settled. */
  private async handOverBatch(): Promise<void> {
    const slot = this.slot!;
    const size = this.batchBytes;
    const batch = this.batch;
    this.slot = undefined;
    this.batch = [];
    this.batchBytes = 0;
    if (batch.length === 0) return slot.release();
    await this.startTask(
      this.storeBatch(batch).finally(() => slot.release()),
      size,
    );
  }

  /** Runs a store of `size` buffered bytes in the pool; waits while the pool is full. */
  private async startTask(store: Promise<void>, size: number): Promise<void> {
    const parallel = this.storage.writeBatch ? BATCHES_IN_FLIGHT : this.parallel;
    const task = store.then(
      () => void (this.buffered -= size),
      (err: unknown) => {
        this.buffered -= size;
        this.failure ??= err;
      },
    );
    this.pending.add(task);
    void task.finally(() => this.pending.delete(task));
    while (
      this.pending.size > 0 &&
      (this.pending.size >= parallel || this.buffered > this.maxBuffered)
    ) {
      await Promise.race(this.pending);
    }
    this.throwIfFailed();
  }

  /** Waits for every write and makes the blobs' names durable; rejects with the first failure. */
  async flush(): Promise<void> {
    if (this.slot) await this.handOverBatch().catch(() => undefined);
    await Promise.all([...this.pending]);
    this.throwIfFailed();
    await this.storage.syncDeferred?.();
  }

  private async storeBuffer(key: string, sha256: string, bytes: Buffer): Promise<void> {
    if (await this.isPresent(key, sha256, bytes.length)) return;
    await this.storage.write(key, bytes, DEFER);
    this.counted(sha256, bytes.length);
  }

  private async storeBatch(batch: Buffered[]): Promise<void> {
    const sizes = batch.map(({ bytes }) => bytes.length);
    const items = batch.map(({ key, bytes }) => ({ key, body: bytes }));
    const written = await this.storage.writeBatch!(items, BATCH);
    batch.forEach(({ sha256 }, i) => {
      if (written[i]) this.counted(sha256, sizes[i]!);
      else this.countedPresent(sha256, sizes[i]!);
    });
  }

  private async storeStream(key: string, sha256: string, size: number, body: Readable) {
    await this.largeTail;
    this.throwIfFailed();
    if (await this.isPresent(key, sha256, size)) {
      await drain(body);
      return;
    }
    const consumed = ended(body);
    consumed.catch(() => {}); // the write's rejection carries the same failure
    const write = this.storage.writeStream(key, body, size, DEFER);
    const task = write.then(
      () => this.counted(sha256, size),
      (err: unknown) => void (this.failure ??= err),
    );
    this.pending.add(task);
    void task.finally(() => this.pending.delete(task));
    this.largeTail = task;
    // Whichever comes first: the body's end (the write may still be committing) or the
    // write's failure (the body is then destroyed and must not be waited for).
    await Promise.race([consumed, write]);
  }

  private async isPresent(key: string, sha256: string, size: number): Promise<boolean> {
    // Same size at a content-addressed key: the bytes are the same (check --deep proves it).
    if ((await this.storage.stat(key))?.size !== size) return false;
    this.countedPresent(sha256, size);
    return true;
  }

  private countedPresent(sha256: string, size: number): void {
    this.present++;
    this.opts.onBlob?.(sha256, size, false);
  }

  private counted(sha256: string, size: number): void {
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

function ended(body: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    body.once('end', resolve);
    body.once('error', reject);
  });
}

/**
 * The body's bytes copied into the start of `into` (at least `size` bytes): the reader's
 * chunks are slices of 1 MiB reads, and keeping a slice would keep its whole read buffer alive
 * while the write waits. Resolves with the `size` bytes filled.
 */
function collect(body: Readable, size: number, key: string, into: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const bytes = into.subarray(0, size);
    let at = 0;
    body.on('data', (chunk: Buffer) => {
      if (at + chunk.length <= size) chunk.copy(bytes, at);
      at += chunk.length;
    });
    body.once('error', reject);
    body.once('end', () => {
      if (at === size) resolve(bytes);
      else reject(sizeError(key, at, size));
    });
    if (body.errored) reject(body.errored);
  });
}

function sizeError(key: string, seen: number, size: number): IntegrityError {
  return new IntegrityError(`${key}: received ${seen} bytes, expected ${size}`, {
    code: 'ESIZE',
    hint: 'the bundle is truncated or corrupt; nothing was published',
  });
}
