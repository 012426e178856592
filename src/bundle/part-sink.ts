/**
 * The byte sink the tar stream is written into: it cuts the stream into parts of at most
 * `limit` bytes, hashes each part, and makes each part durable (temp name, fsync, rename) as
 * soon as it is full.
 *
 * The producer fills 4 MiB slots of shared memory in place (`room` + `commit`, or `put`), so a
 * blob is read straight into the slot it is written from. A full slot is handed at once to the
 * part hasher and the blob checker (one worker thread each) and queued for writing (libuv
 * pool), and the producer goes on filling the next slot: reading, both hashes and writing
 * overlap. A slot is reused only once all three are done with it, which bounds memory to the
 * slots. The slots are aligned for direct I/O (part-file.ts): the disk takes the bytes from
 * them, without a copy into the page cache.
 */
import { rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { storageErrorFrom } from '../errors.js';
import type { PartWritten } from './events.js';
import { DIRECT_ALIGN, PartFile } from './part-file.js';
import type { PartHasher } from './part-hasher.js';

const SLOT_SIZE = 4 * 1024 * 1024;
const SLOTS = 4;
/**
 * Buffered writes only (no direct I/O here): while a part is written, its pages are pushed to
 * the disk every this many bytes, in the background, so that the fsync that completes the part
 * waits for the last stretch only (measured: ~60 ms of idle time per 200 MB).
 */
const WRITEBACK_EVERY = 32 * 1024 * 1024;

export interface PartSinkOptions {
  dir: string;
  /** Final file names, one per part; their count was computed from the stream length. */
  names: string[];
  limit: number;
  hasher: PartHasher;
  onPart(part: PartWritten): void;
  onBytes(total: number): void;
  /** False: buffered writes only. Default: direct I/O where the file system allows it. */
  directIo?: boolean;
  /** Another reader of each slot handed over (the blob checker); the slot waits for it too. */
  checkSlot?(bytes: Buffer): Promise<unknown>;
}

export class PartSink {
  readonly parts: PartWritten[] = [];
  private file: PartFile | undefined;
  /** Bytes of the open part handed over so far: where the current slot will be written. */
  private inPart = 0;
  private written = 0;
  /** The slots' memory, with room to start them on a block boundary (see `create`). */
  private readonly memory = Buffer.from(new SharedArrayBuffer(SLOTS * SLOT_SIZE + DIRECT_ALIGN));
  private slots = this.slotsAt(0);
  private aligned = false;
  /** Per slot: its hashes and write, settled (failures land in `failure`). */
  private readonly slotBusy: Promise<unknown>[] = Array.from({ length: SLOTS }, () =>
    Promise.resolve(),
  );
  private slot = 0;
  private filled = 0;
  /** Writes and background syncs of the open part, all awaited before it is completed. */
  private partWrites: Promise<unknown>[] = [];
  /** The last write queued: the next one starts when it is done. */
  private lastWrite: Promise<unknown> = Promise.resolve();
  private writebackAt = WRITEBACK_EVERY;
  private failure: unknown;
  /** Every file this sink created, temp or final, so that a failed run can remove them. */
  private readonly created: string[] = [];

  private constructor(private readonly opts: PartSinkOptions) {}

  /**
   * Opens the first part and, with it, finds where in the slots' memory direct writes are
   * accepted: the slots start there, so every full slot goes to the disk without a copy.
   */
  static async create(opts: PartSinkOptions): Promise<PartSink> {
    const sink = new PartSink(opts);
    try {
      await sink.openPart();
      const offset = await sink.file!.findDirectOffset(sink.memory);
      if (offset !== undefined) {
        sink.slots = sink.slotsAt(offset);
        sink.aligned = true;
      }
    } catch (err) {
      await sink.discard();
      throw err;
    }
    return sink;
  }

  get bytesWritten(): number {
    return this.written + this.filled;
  }

  /** True while parts are written with direct I/O. */
  get direct(): boolean {
    return this.aligned && this.file?.isDirect !== false;
  }

  /** Bytes already in the current slot: where `room()` starts. */
  get slotFilled(): number {
    return this.filled;
  }

  /** The free space of the current slot, to fill in place; empty when `advance` is due. */
  room(): Buffer {
    return this.slots[this.slot]!.subarray(this.filled, this.capacity());
  }

  /** Counts `n` bytes the producer put at the start of `room()`. */
  commit(n: number): void {
    this.filled += n;
  }

  /** Copies as much of `bytes` as the current slot holds; returns how many it took. */
  put(bytes: Uint8Array): number {
    const n = Math.min(bytes.length, this.capacity() - this.filled);
    this.slots[this.slot]!.set(n === bytes.length ? bytes : bytes.subarray(0, n), this.filled);
    this.filled += n;
    return n;
  }

  /** Copies all of `bytes`, handing slots over as they fill. */
  async write(bytes: Uint8Array): Promise<void> {
    for (let at = this.put(bytes); at < bytes.length; at += this.put(bytes.subarray(at))) {
      await this.advance();
    }
  }

  /** Hands the current slot over to be hashed and written; waits until the next one is free. */
  async advance(): Promise<void> {
    const i = this.slot;
    const bytes = this.slots[i]!.subarray(0, this.filled);
    this.filled = 0;
    this.slot = (i + 1) % SLOTS;
    if (bytes.length > 0) {
      if (!this.file) await this.openPart();
      const hashed = this.settle(this.opts.hasher.hashShared(bytes));
      const checked = this.settle(this.opts.checkSlot?.(bytes) ?? Promise.resolve());
      const written = this.queueWrite(this.file!, bytes, this.inPart);
      this.partWrites.push(written);
      this.slotBusy[i] = Promise.all([hashed, checked, written]);
      this.inPart += bytes.length;
      this.written += bytes.length;
      if (this.inPart === this.opts.limit) await this.completePart();
      else if (!this.direct && this.inPart >= this.writebackAt) this.startWriteback();
    }
    this.opts.onBytes(this.written);
    await this.slotBusy[this.slot];
    this.throwIfFailed();
  }

  /** Writes what is left and completes the last part; returns every part written. */
  async finish(): Promise<PartWritten[]> {
    if (this.filled > 0) await this.advance();
    if (this.file && this.inPart > 0) await this.completePart();
    await Promise.all(this.slotBusy);
    this.throwIfFailed();
    if (this.parts.length !== this.opts.names.length) {
      throw new Error(
        `tar stream produced ${this.parts.length} parts, expected ${this.opts.names.length}`,
      );
    }
    return this.parts;
  }

  /** After a failure: closes the open part and removes every file this sink created. */
  async discard(): Promise<void> {
    await Promise.all([...this.slotBusy, ...this.partWrites]);
    await this.file?.close().catch(() => undefined);
    this.file = undefined;
    await Promise.all(this.created.map((f) => unlink(f).catch(() => undefined)));
  }

  /**
   * A slot never spans two parts: the one that ends a part is cut short, so every part starts
   * with a fresh slot and every full slot lands on a block boundary of its file.
   */
  private capacity(): number {
    return Math.min(SLOT_SIZE, this.opts.limit - this.inPart);
  }

  private slotsAt(offset: number): Buffer[] {
    return Array.from({ length: SLOTS }, (_, i) =>
      this.memory.subarray(offset + i * SLOT_SIZE, offset + (i + 1) * SLOT_SIZE),
    );
  }

  /** Keeps a background step's failure for the next check instead of leaving it unhandled. */
  private settle(step: Promise<unknown>): Promise<unknown> {
    return step.catch((err: unknown) => {
      this.failure ??= err;
    });
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  /**
   * Buffered writes run one after another, never side by side: writes to one file take its
   * inode lock in turn, and buffered writers waiting for it spin (measured: 2-3 CPU-s of system
   * time with four in flight, against ~0.5 with one). Direct writes go at once: their waiters
   * sleep while the disk works, and a chain would start each write only when this thread's
   * event loop next runs (measured: the disk then idled ~60 % of the stream). After a failure
   * the queued writes are skipped.
   */
  private queueWrite(file: PartFile, bytes: Buffer, position: number): Promise<unknown> {
    if (this.direct) return this.settle(file.write(bytes, position, this.aligned));
    const write = this.lastWrite.then(() =>
      this.failure === undefined ? file.write(bytes, position, this.aligned) : undefined,
    );
    this.lastWrite = this.settle(write);
    return this.lastWrite;
  }

  /** Once the writes so far are done, syncs the part's data without waiting for it. */
  private startWriteback(): void {
    const file = this.file!;
    const writes = this.partWrites.slice();
    this.writebackAt = this.inPart + WRITEBACK_EVERY;
    const sync = Promise.all(writes).then(() => file.datasync());
    this.partWrites.push(this.settle(sync));
  }

  private async openPart(): Promise<void> {
    const index = this.parts.length;
    if (index >= this.opts.names.length) throw new Error('tar stream is longer than computed');
    const path = this.tempPath(index);
    // Later parts try direct I/O only if the first part's probe found the slots usable for it.
    const direct = this.opts.directIo !== false && (index === 0 || this.aligned);
    this.file = await PartFile.create(path, direct);
    this.created.push(path);
    this.inPart = 0;
    this.writebackAt = WRITEBACK_EVERY;
  }

  /** fsync before rename: after a crash a part under its final name holds all its bytes. */
  private async completePart(): Promise<void> {
    const index = this.parts.length;
    const name = this.opts.names[index]!;
    const temp = this.tempPath(index);
    const final = join(this.opts.dir, name);
    // Its writes, and the blob checks of its slots: a part that holds a rotted blob never
    // gets its final name.
    await Promise.all([...this.partWrites, ...this.slotBusy]);
    this.partWrites = [];
    this.throwIfFailed();
    const sha256 = await this.opts.hasher.digest();
    try {
      await this.file!.sync();
      await this.file!.close();
      this.file = undefined;
      await rename(temp, final);
    } catch (err) {
      throw storageErrorFrom(err, 'complete part', final);
    }
    this.created.push(final);
    const part = { name, size: this.inPart, sha256 };
    this.parts.push(part);
    this.inPart = 0;
    this.opts.onPart(part);
  }

  private tempPath(index: number): string {
    return join(this.opts.dir, `${this.opts.names[index]}.tmp`);
  }
}
