/**
 * Writes a large text file line by line without holding it in memory: lines are batched into
 * ~1 MiB writes, hashed as they go, and the file is fsynced before anyone relies on it. Used
 * for index.ndjson (200k entries must not become one string) and the contents listing.
 */
import { createHash, type Hash } from 'node:crypto';
import { open, rename, type FileHandle } from 'node:fs/promises';
import { storageErrorFrom } from '../errors.js';

const BATCH = 1024 * 1024;

export class TextFileWriter {
  private pending: string[] = [];
  private pendingLength = 0;
  private readonly hash: Hash = createHash('sha256');
  size = 0;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  /** Creates the file exclusively: an existing file is never overwritten. */
  static async create(path: string): Promise<TextFileWriter> {
    try {
      return new TextFileWriter(path, await open(path, 'wx'));
    } catch (err) {
      throw storageErrorFrom(err, 'create', path);
    }
  }

  async line(text: string): Promise<void> {
    this.pending.push(text, '\n');
    this.pendingLength += text.length + 1;
    if (this.pendingLength >= BATCH) await this.flush();
  }

  /**
   * Flushes, fsyncs and closes; returns the file's size and sha256. `durable: false` skips the
   * fsync, for a temporary file whose bytes are copied into a file that is itself fsynced.
   */
  async finish({ durable = true } = {}): Promise<{ size: number; sha256: string }> {
    await this.flush();
    try {
      if (durable) await this.handle.sync();
    } catch (err) {
      throw storageErrorFrom(err, 'sync', this.path);
    } finally {
      await this.handle.close();
    }
    return { size: this.size, sha256: this.hash.digest('hex') };
  }

  /** finish(), then move the file to its final name. */
  async finishAs(finalPath: string): Promise<{ size: number; sha256: string }> {
    const result = await this.finish();
    try {
      await rename(this.path, finalPath);
    } catch (err) {
      throw storageErrorFrom(err, 'rename', finalPath);
    }
    return result;
  }

  /** Closes without syncing, after a failure (the caller removes the file). */
  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const bytes = Buffer.from(this.pending.join(''));
    this.pending = [];
    this.pendingLength = 0;
    this.hash.update(bytes);
    this.size += bytes.length;
    try {
      await this.handle.write(bytes);
    } catch (err) {
      throw storageErrorFrom(err, 'write', this.path);
    }
  }
}
