/**
 * One part file being written, through direct I/O where the file system allows it.
 *
 * Buffered writes copy every byte into the page cache and the fsync then writes the pages
 * back: on the bench's 2-core VM that kernel work cost 1.5-3 CPU-s per 1.58 GB, more than both
 * sha256 passes together. With O_DIRECT the disk reads the bytes straight from our slots
 * (~0.15 CPU-s for the same bytes). Direct I/O needs the memory, the file offset and the length
 * aligned to the device's block; the part sink keeps its slots aligned (see
 * `findDirectOffset`), so only a part's last few KiB (its length is rarely a multiple of the
 * block) go through the page cache. The fsync that completes a part covers both kinds of
 * write: it works on the file, not on a descriptor.
 */
import { constants, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { storageErrorFrom } from '../errors.js';

/** The largest logical block of common disks (4Kn): aligned to it, aligned to any. */
export const DIRECT_ALIGN = 4096;

export class PartFile {
  private constructor(
    readonly path: string,
    private readonly buffered: FileHandle,
    private direct: FileHandle | undefined,
  ) {}

  /** Creates the file exclusively; `direct` false (or no O_DIRECT here) writes buffered only. */
  static async create(path: string, direct: boolean): Promise<PartFile> {
    let buffered: FileHandle;
    try {
      buffered = await open(path, 'wx');
    } catch (err) {
      throw storageErrorFrom(err, 'create', path);
    }
    return new PartFile(path, buffered, direct ? await openDirect(path) : undefined);
  }

  get isDirect(): boolean {
    return this.direct !== undefined;
  }

  /**
   * The offset into `memory` at which a direct write is accepted: the allocator's alignment is
   * not visible from JavaScript, so each candidate is tried (a refused one fails at once with
   * EINVAL). Undefined when none is, and then this file writes buffered only. Leaves the file
   * empty.
   */
  async findDirectOffset(memory: Buffer): Promise<number | undefined> {
    if (!this.direct) return undefined;
    let found: number | undefined;
    for (let at = 0; at < DIRECT_ALIGN && found === undefined; at += 16) {
      try {
        // Two blocks: a write within one memory page can pass a check a longer one fails.
        writeSync(this.direct.fd, memory, at, 2 * DIRECT_ALIGN, 0);
        found = at;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EINVAL') break;
      }
    }
    try {
      await this.buffered.truncate(0);
    } catch (err) {
      throw storageErrorFrom(err, 'truncate', this.path);
    }
    if (found === undefined) await this.dropDirect();
    return found;
  }

  /**
   * Writes all of `bytes` at `position`. `aligned`: the bytes start on a DIRECT_ALIGN boundary
   * in memory; the whole blocks then go direct, the rest buffered.
   */
  async write(bytes: Buffer, position: number, aligned: boolean): Promise<void> {
    let done = 0;
    if (this.direct && aligned && position % DIRECT_ALIGN === 0) {
      const whole = bytes.length - (bytes.length % DIRECT_ALIGN);
      try {
        if (whole > 0) await writeAll(this.direct, bytes.subarray(0, whole), position);
        done = whole;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EINVAL') {
          throw storageErrorFrom(err, 'write', this.path);
        }
        // Refused after all (a file system that checks differently): buffered from here on.
        await this.dropDirect();
      }
    }
    try {
      if (done < bytes.length) await writeAll(this.buffered, bytes.subarray(done), position + done);
    } catch (err) {
      throw storageErrorFrom(err, 'write', this.path);
    }
  }

  /** Starts pushing buffered bytes to the disk (no-op work for direct writes). */
  datasync(): Promise<void> {
    return this.buffered.datasync();
  }

  async sync(): Promise<void> {
    await this.buffered.sync();
  }

  async close(): Promise<void> {
    await this.dropDirect();
    await this.buffered.close();
  }

  private async dropDirect(): Promise<void> {
    const direct = this.direct;
    this.direct = undefined;
    await direct?.close().catch(() => undefined);
  }
}

/** A second descriptor with O_DIRECT, or undefined where the platform or file system has none. */
async function openDirect(path: string): Promise<FileHandle | undefined> {
  const flag = (constants as { O_DIRECT?: number }).O_DIRECT;
  if (flag === undefined) return undefined;
  try {
    return await open(path, constants.O_WRONLY | flag);
  } catch {
    return undefined;
  }
}

async function writeAll(handle: FileHandle, bytes: Buffer, position: number): Promise<void> {
  for (let done = 0; done < bytes.length;) {
    const rest = bytes.length - done;
    done += (await handle.write(bytes, done, rest, position + done)).bytesWritten;
  }
}
