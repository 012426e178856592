/**
 * The byte sink the tar stream is written into: it cuts the stream into parts of at most
 * `limit` bytes, hashes each part as it is written, and makes each part durable (temp name,
 * fsync, rename) as soon as it is full. Small writes (tar headers, padding) are staged and
 * written together with the data that follows them.
 */
import { createHash, type Hash } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { storageErrorFrom } from '../errors.js';
import type { PartWritten } from './events.js';

const STAGE_SIZE = 1024 * 1024;
const SMALL_WRITE = 64 * 1024;

export interface PartSinkOptions {
  dir: string;
  /** Final file names, one per part; their count was computed from the stream length. */
  names: string[];
  limit: number;
  onPart(part: PartWritten): void;
  onBytes(total: number): void;
}

export class PartSink {
  readonly parts: PartWritten[] = [];
  private handle: FileHandle | undefined;
  private hash: Hash | undefined;
  private inPart = 0;
  private written = 0;
  private readonly stage = Buffer.allocUnsafe(STAGE_SIZE);
  private staged = 0;
  /** Every file this sink created, temp or final, so that a failed run can remove them. */
  private readonly created: string[] = [];

  constructor(private readonly opts: PartSinkOptions) {}

  get bytesWritten(): number {
    return this.written + this.staged;
  }

  async write(bytes: Buffer): Promise<void> {
    if (bytes.length < SMALL_WRITE && this.staged + bytes.length <= STAGE_SIZE) {
      bytes.copy(this.stage, this.staged);
      this.staged += bytes.length;
      return;
    }
    await this.flushStage();
    if (bytes.length < SMALL_WRITE) {
      bytes.copy(this.stage, 0);
      this.staged = bytes.length;
      return;
    }
    await this.writeThrough(bytes);
  }

  /** Writes what is staged and completes the last part; returns every part written. */
  async finish(): Promise<PartWritten[]> {
    await this.flushStage();
    if (this.handle) await this.completePart();
    if (this.parts.length !== this.opts.names.length) {
      throw new Error(
        `tar stream produced ${this.parts.length} parts, expected ${this.opts.names.length}`,
      );
    }
    return this.parts;
  }

  /** After a failure: closes the open part and removes every file this sink created. */
  async discard(): Promise<void> {
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
    await Promise.all(this.created.map((f) => unlink(f).catch(() => undefined)));
  }

  private async flushStage(): Promise<void> {
    if (this.staged === 0) return;
    const staged = this.stage.subarray(0, this.staged);
    this.staged = 0;
    // The stage is reused: writeThrough finishes writing it before returning.
    await this.writeThrough(staged);
  }

  private async writeThrough(bytes: Buffer): Promise<void> {
    let at = 0;
    while (at < bytes.length) {
      if (this.handle && this.inPart === this.opts.limit) await this.completePart();
      if (!this.handle) await this.openPart();
      const slice = bytes.subarray(
        at,
        at + Math.min(this.opts.limit - this.inPart, bytes.length - at),
      );
      this.hash!.update(slice);
      await this.writeFully(slice);
      this.inPart += slice.length;
      this.written += slice.length;
      at += slice.length;
    }
    this.opts.onBytes(this.written);
  }

  private async writeFully(slice: Buffer): Promise<void> {
    const path = this.tempPath(this.parts.length);
    try {
      let done = 0;
      while (done < slice.length) {
        const { bytesWritten } = await this.handle!.write(slice, done, slice.length - done);
        done += bytesWritten;
      }
    } catch (err) {
      throw storageErrorFrom(err, 'write', path);
    }
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
    this.hash = createHash('sha256');
    this.inPart = 0;
  }

  /** fsync before rename: after a crash a part under its final name holds all its bytes. */
  private async completePart(): Promise<void> {
    const index = this.parts.length;
    const name = this.opts.names[index]!;
    const temp = this.tempPath(index);
    const final = join(this.opts.dir, name);
    try {
      await this.handle!.sync();
      await this.handle!.close();
      this.handle = undefined;
      await rename(temp, final);
    } catch (err) {
      throw storageErrorFrom(err, 'complete part', final);
    }
    this.created.push(final);
    const part = { name, size: this.inPart, sha256: this.hash!.digest('hex') };
    this.parts.push(part);
    this.opts.onPart(part);
  }

  private tempPath(index: number): string {
    return join(this.opts.dir, `${this.opts.names[index]}.tmp`);
  }
}
