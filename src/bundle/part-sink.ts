/**
 * The byte sink the tar stream is written into: it cuts the stream into parts of at most
 * `limit` bytes, hashes each part, and makes each part durable (temp name, fsync, rename) as
 * soon as it is full.
 *
 * The producer fills 4 MiB slots of shared memory in place (`room` + `commit`, or `put`), so a
 * blob is read straight into the slot it is written from. A full slot is handed to the part
 * hasher (another thread) and to a positional write (the libuv pool) at once, and the producer
 * goes on filling the next slot: reading, hashing and writing overlap on the two cores. A slot
 * is reused only once both its hash and its write are done, which bounds memory to the slots.
 */
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { storageErrorFrom } from '../errors.js';
import type { PartWritten } from './events.js';
import type { PartHasher } from './part-hasher.js';

const SLOT_SIZE = 4 * 1024 * 1024;
const SLOTS = 4;
/**
 * While a part is written, its pages are pushed to the disk every this many bytes, in the
 * background: the fsync that completes the part then waits for the last stretch only, not
 * for all of it (measured: ~60 ms of idle time per 200 MB on the bench's virtual disk).
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
}

export class PartSink {
  readonly parts: PartWritten[] = [];
  private handle: FileHandle | undefined;
  private inPart = 0;
  private written = 0;
  private readonly slots = Array.from({ length: SLOTS }, () =>
    Buffer.from(new SharedArrayBuffer(SLOT_SIZE)),
  );
  /** Per slot: its hash and write, settled (failures land in `failure`). */
  private readonly slotBusy: Promise<unknown>[] = Array.from({ length: SLOTS }, () =>
    Promise.resolve(),
  );
  private slot = 0;
  private filled = 0;
  /** Writes and background syncs of the open part, all awaited before it is completed. */
  private partWrites: Promise<unknown>[] = [];
  private writebackAt = WRITEBACK_EVERY;
  private failure: unknown;
  /** Every file this sink created, temp or final, so that a failed run can remove them. */
  private readonly created: string[] = [];

  constructor(private readonly opts: PartSinkOptions) {}

  get bytesWritten(): number {
    return this.written + this.filled;
  }

  /** The free space of the current slot, to fill in place; empty when `advance` is due. */
  room(): Buffer {
    return this.slots[this.slot]!.subarray(this.filled);
  }

  /** Counts `n` bytes the producer put at the start of `room()`. */
  commit(n: number): void {
    this.filled += n;
  }

  /** Copies as much of `bytes` as the current slot holds; returns how many it took. */
  put(bytes: Uint8Array): number {
    const n = Math.min(bytes.length, SLOT_SIZE - this.filled);
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
    const busy: Promise<unknown>[] = [];
    for (let at = 0; at < bytes.length;) {
      if (!this.handle) await this.openPart();
      const piece = bytes.subarray(
        at,
        at + Math.min(this.opts.limit - this.inPart, bytes.length - at),
      );
      busy.push(this.settle(this.opts.hasher.hashShared(piece)));
      const write = this.settle(this.writeAt(this.handle!, piece, this.inPart));
      busy.push(write);
      this.partWrites.push(write);
      this.inPart += piece.length;
      this.written += piece.length;
      at += piece.length;
      if (this.inPart === this.opts.limit) await this.completePart();
      else if (this.inPart >= this.writebackAt) this.startWriteback();
    }
    this.slotBusy[i] = Promise.all(busy);
    this.opts.onBytes(this.written);
    await this.slotBusy[this.slot];
    this.throwIfFailed();
  }

  /** Writes what is left and completes the last part; returns every part written. */
  async finish(): Promise<PartWritten[]> {
    if (this.filled > 0) await this.advance();
    if (this.handle) await this.completePart();
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
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
    await Promise.all(this.created.map((f) => unlink(f).catch(() => undefined)));
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

  private async writeAt(handle: FileHandle, bytes: Buffer, position: number): Promise<void> {
    try {
      for (let done = 0; done < bytes.length;) {
        const rest = bytes.length - done;
        done += (await handle.write(bytes, done, rest, position + done)).bytesWritten;
      }
    } catch (err) {
      throw storageErrorFrom(err, 'write', this.tempPath(this.parts.length));
    }
  }

  /** Once the writes so far are done, syncs the part's data without waiting for it. */
  private startWriteback(): void {
    const handle = this.handle!;
    const writes = this.partWrites.slice();
    this.writebackAt = this.inPart + WRITEBACK_EVERY;
    const sync = Promise.all(writes).then(() => handle.datasync());
    this.partWrites.push(this.settle(sync));
  }

  private async openPart(): Promise<void> {
    const index = this.parts.length;
    if (index >= this.opts.names.length) throw new Error('tar stream is longer than computed');
    const path = this.tempPath(index);
    try {
      this.handle = await open(path, 'wx');
    } catch (err) {
      throw storageErrorFrom(err, 'create', path);
    }
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
    await Promise.all(this.partWrites);
    this.partWrites = [];
    this.throwIfFailed();
    const sha256 = await this.opts.hasher.digest();
    try {
      await this.handle!.sync();
      await this.handle!.close();
      this.handle = undefined;
      await rename(temp, final);
    } catch (err) {
      throw storageErrorFrom(err, 'complete part', final);
    }
    this.created.push(final);
    const part = { name, size: this.inPart, sha256 };
    this.parts.push(part);
    this.opts.onPart(part);
  }

  private tempPath(index: number): string {
    return join(this.opts.dir, `${this.opts.names[index]}.tmp`);
  }
}
