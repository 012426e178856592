/**
 * The directory backend (the default). Every write goes temp file in <root>/tmp/ (same file
 * system) → fsync → rename → fsync of the directory, so a crash or power loss leaves the old
 * object or the whole new one. Safe on NFS: renames and link() are atomic there, and nothing
 * relies on flock or SQLite.
 *
 * An import writes thousands of blobs: with `deferNameSync` the directory fsync waits for
 * syncDeferred(), which fsyncs each directory that gained entries once (measured: the per-blob
 * directory fsync and its open/close were most of an import's time on small files).
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, createWriteStream, type Stats } from 'node:fs';
import { link, open, opendir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { IntegrityError, StorageError, storageErrorFrom } from '../errors.js';
import { makeDirectory } from '../make-directory.js';
import { BatchWriter, holdsFileOfSize } from './fs-batch-write.js';
import { BufferPool, copyFileTo } from './fs-copy.js';
import { guardSize } from './size-guard.js';
import type {
  BatchItem,
  BatchWriteOptions,
  ByteRange,
  ObjectInfo,
  Storage,
  WriteOptions,
} from './storage.js';

const TEMP_DIR = 'tmp';
// Reads of 1 MiB: a 64 KiB default costs sixteen times the syscalls and stream turns per file.
const READ_CHUNK = 1024 * 1024;
// A streamed write accepts this much before it pushes back: the reader hashes the next chunks
// while earlier ones are written, instead of waiting for each 1 MiB write in turn.
const WRITE_BUFFER = 1024 * 1024;

export class FsStorage implements Storage {
  readonly location: string;
  // A write waits mostly on open, fsync and rename in libuv's 4 threads: one at a time took an
  // import of 2,000 small blobs 5.4 s, 4 to 16 at once about 3.3 s (same load); 8 it is.
  readonly parallelWrites = 8;
  /** Directories that gained an entry whose fsync waits for syncDeferred(). */
  private readonly unsyncedDirs = new Set<string>();
  /** Directories known to exist: a rename into one needs no mkdir first. */
  private readonly knownDirs = new Set<string>();
  // Unique per process and instance, so temp names need no random bytes per write.
  private readonly tempPrefix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  private tempCount = 0;
  // 256 KiB reads: big enough that a 1 MiB file costs four reads, small enough that 50 clients
  // at once hold 13 MB. Up to 64 idle buffers are kept for the next requests.
  private readonly copyBuffers = new BufferPool(256 * 1024, 64);
  private readonly batchWriter = new BatchWriter();

  constructor(private readonly root: string) {
    this.location = root;
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    const path = this.pathOf(key);
    let info: Stats;
    try {
      info = await stat(path);
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw storageErrorFrom(err, 'stat', path);
    }
    if (!info.isFile()) return undefined;
    return {
      size: info.size,
      modified: info.mtime,
      version: `${info.ino}-${info.size}-${info.mtimeMs}`,
    };
  }

  async read(key: string, range?: ByteRange): Promise<Readable | undefined> {
    const path = this.pathOf(key);
    try {
      const handle = await open(path, fsConstants.O_RDONLY);
      const where = range ? { start: range.start, end: range.end } : {};
      return handle.createReadStream({ ...where, highWaterMark: READ_CHUNK });
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw storageErrorFrom(err, 'read', path);
    }
  }

  async copyTo(
    key: string,
    destination: Writable,
    size: number,
    range?: ByteRange,
  ): Promise<number | undefined> {
    const path = this.pathOf(key);
    try {
      return await copyFileTo(path, destination, this.copyBuffers, size, range);
    } catch (err) {
      throw storageErrorFrom(err, 'read', path);
    }
  }

  async readBuffer(key: string): Promise<Buffer | undefined> {
    const path = this.pathOf(key);
    try {
      return await readFile(path);
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw storageErrorFrom(err, 'read', path);
    }
  }

  async write(key: string, body: Buffer | string, opts: WriteOptions = {}): Promise<void> {
    const path = this.pathOf(key);
    const temp = await this.writeTemp(path, (file) => writeDurably(file, body));
    await this.moveIntoPlace(temp, path, opts);
  }

  async writeBatch(items: readonly BatchItem[], opts: BatchWriteOptions = {}): Promise<boolean[]> {
    await this.ensureTempDir();
    const written = items.map(
      (item) => !(opts.keepSameSize && holdsFileOfSize(this.pathOf(item.key), item.body.length)),
    );
    const files = items
      .filter((_, i) => written[i])
      .map((item) => ({ path: this.pathOf(item.key), temp: this.nextTempPath(), body: item.body }));
    const dirs = new Set(files.map((file) => dirname(file.path)));
    await this.batchWriter.write(files);
    for (const dir of dirs) {
      if (opts.deferNameSync) this.unsyncedDirs.add(dir);
      else
        await this.syncDir(dir).catch((err: unknown) => {
          throw storageErrorFrom(err, 'sync', dir);
        });
    }
    return written;
  }

  async writeStream(
    key: string,
    body: Readable,
    size: number,
    opts: WriteOptions = {},
  ): Promise<void> {
    const guarded = guardSize(body, size, key);
    const path = this.pathOf(key);
    const temp = await this.writeTemp(path, async (file) => {
      // flush: fsync before close, so the rename below never publishes unwritten bytes.
      const out = createWriteStream(file, {
        flags: 'wx',
        flush: true,
        highWaterMark: WRITE_BUFFER,
      });
      try {
        await pipeline(guarded, out);
      } catch (err) {
        // A failing body destroys the file stream while it may still be opening: wait until
        // it has closed, or its open() could create the temp file after writeTemp removed it.
        if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
        throw err;
      }
    });
    await this.moveIntoPlace(temp, path, opts);
  }

  async syncDeferred(): Promise<void> {
    const dirs = [...this.unsyncedDirs];
    this.unsyncedDirs.clear();
    try {
      await Promise.all(dirs.map((dir) => this.syncDir(dir)));
    } catch (err) {
      for (const dir of dirs) this.unsyncedDirs.add(dir);
      throw storageErrorFrom(err, 'sync', this.root);
    }
  }

  async createExclusive(key: string, body: Buffer | string): Promise<boolean> {
    const path = this.pathOf(key);
    // link() of a complete temp file rather than open('wx') + write: the key never exists
    // empty or half-written (a crash between open and write would leave a lock nobody can
    // parse), and link is the exclusive create that has always been atomic on NFS.
    const temp = await this.writeTemp(path, (file) => writeDurably(file, body));
    try {
      await this.ensureDir(dirname(path));
      await link(temp, path);
      await this.syncDir(dirname(path));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw storageErrorFrom(err, 'create', path);
    } finally {
      await rm(temp, { force: true });
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key);
    try {
      await unlink(path);
    } catch (err) {
      if (!isMissing(err)) throw storageErrorFrom(err, 'delete', path);
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    const slash = prefix.lastIndexOf('/');
    const base = slash < 0 ? '' : prefix.slice(0, slash + 1);
    for await (const key of this.walk(base)) {
      if (!key.startsWith(prefix)) continue;
      if (key.startsWith(`${TEMP_DIR}/`) && !prefix.startsWith(`${TEMP_DIR}/`)) continue;
      yield key;
    }
  }

  /** Removes temp files a killed writer left behind; call only while holding the import lock. */
  async abandonPartialWrites(): Promise<number> {
    let removed = 0;
    for await (const key of this.walk(`${TEMP_DIR}/`)) {
      await rm(join(this.root, key), { force: true });
      removed++;
    }
    return removed;
  }

  async close(): Promise<void> {
    await this.batchWriter.close();
  }

  private async *walk(base: string): AsyncIterable<string> {
    let dir;
    try {
      dir = await opendir(join(this.root, base));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw storageErrorFrom(err, 'list', join(this.root, base));
    }
    for await (const entry of dir) {
      const key = `${base}${entry.name}`;
      if (entry.isDirectory()) yield* this.walk(`${key}/`);
      else if (entry.isFile()) yield key;
    }
  }

  private async ensureTempDir(): Promise<void> {
    const tempDir = join(this.root, TEMP_DIR);
    if (!this.knownDirs.has(tempDir)) {
      await this.ensureDir(tempDir);
      this.knownDirs.add(tempDir);
    }
  }

  private nextTempPath(): string {
    return join(this.root, TEMP_DIR, `${this.tempPrefix}-${this.tempCount++}.tmp`);
  }

  private async writeTemp(target: string, fill: (file: string) => Promise<void>): Promise<string> {
    await this.ensureTempDir();
    const temp = this.nextTempPath();
    try {
      await fill(temp);
    } catch (err) {
      await rm(temp, { force: true });
      if (err instanceof IntegrityError || err instanceof StorageError) throw err;
      if (isFsError(err)) throw storageErrorFrom(err, 'write', target);
      throw err;
    }
    return temp;
  }

  private async moveIntoPlace(temp: string, path: string, opts: WriteOptions): Promise<void> {
    const dir = dirname(path);
    try {
      await this.renameInto(temp, path, dir);
      if (opts.deferNameSync) this.unsyncedDirs.add(dir);
      else await this.syncDir(dir);
    } catch (err) {
      await rm(temp, { force: true });
      throw err instanceof StorageError ? err : storageErrorFrom(err, 'write', path);
    }
  }

  // Directories are made once per instance; one removed behind our back (ENOENT) is made again.
  private async renameInto(temp: string, path: string, dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) {
      try {
        await rename(temp, path);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        this.knownDirs.delete(dir);
      }
    }
    await this.ensureDir(dir);
    await rename(temp, path);
    this.knownDirs.add(dir);
  }

  private async ensureDir(dir: string): Promise<void> {
    try {
      await makeDirectory(dir);
    } catch (err) {
      throw storageErrorFrom(err, 'create directory', dir);
    }
  }

  // The rename is durable only once the directory entry is: fsync the directory too.
  private async syncDir(dir: string): Promise<void> {
    const handle = await open(dir, fsConstants.O_RDONLY);
    try {
      await handle.sync();
    } catch (err) {
      // Some file systems (and NFS clients) refuse fsync on a directory; the rename stands.
      if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
    } finally {
      await handle.close();
    }
  }

  private pathOf(key: string): string {
    const segments = key.split('/');
    const unsafe = segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('\0'));
    if (unsafe) throw new TypeError(`not a storage key: ${JSON.stringify(key)}`);
    return join(this.root, ...segments);
  }
}

async function writeDurably(file: string, body: Buffer | string): Promise<void> {
  const handle = await open(file, 'wx');
  try {
    await handle.writeFile(body);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function isFsError(err: unknown): boolean {
  return typeof (err as NodeJS.ErrnoException)?.code === 'string' && 'syscall' in (err as object);
}
