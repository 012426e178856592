/**
 * The directory backend (the default). Every write goes temp file in <root>/tmp/ (same file
 * system) → fsync → rename → fsync of the directory, so a crash or power loss leaves the old
 * object or the whole new one. Safe on NFS: renames and link() are atomic there, and nothing
 * relies on flock or SQLite.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, createWriteStream, type Stats } from 'node:fs';
import { link, mkdir, open, opendir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { IntegrityError, StorageError, storageErrorFrom } from '../errors.js';
import { guardSize } from './size-guard.js';
import type { ByteRange, ObjectInfo, Storage } from './storage.js';

const TEMP_DIR = 'tmp';

export class FsStorage implements Storage {
  readonly location: string;

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
      return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
    } catch (err) {
      if (isMissing(err)) return undefined;
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

  async write(key: string, body: Buffer | string): Promise<void> {
    const path = this.pathOf(key);
    const temp = await this.writeTemp(path, (file) => writeDurably(file, body));
    await this.moveIntoPlace(temp, path);
  }

  async writeStream(key: string, body: Readable, size: number): Promise<void> {
    const guarded = guardSize(body, size, key);
    const path = this.pathOf(key);
    const temp = await this.writeTemp(path, async (file) => {
      // flush: fsync before close, so the rename below never publishes unwritten bytes.
      await pipeline(guarded, createWriteStream(file, { flags: 'wx', flush: true }));
    });
    await this.moveIntoPlace(temp, path);
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

  async close(): Promise<void> {}

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

  private async writeTemp(target: string, fill: (file: string) => Promise<void>): Promise<string> {
    const tempDir = join(this.root, TEMP_DIR);
    await this.ensureDir(tempDir);
    const temp = join(tempDir, `${randomBytes(8).toString('hex')}.tmp`);
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

  private async moveIntoPlace(temp: string, path: string): Promise<void> {
    try {
      await this.ensureDir(dirname(path));
      await rename(temp, path);
      await this.syncDir(dirname(path));
    } catch (err) {
      await rm(temp, { force: true });
      throw err instanceof StorageError ? err : storageErrorFrom(err, 'write', path);
    }
  }

  private async ensureDir(dir: string): Promise<void> {
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw storageErrorFrom(await this.realMkdirError(dir, err), 'create directory', dir);
    }
  }

  // A recursive mkdir reports ENOENT on a read-only file system; creating each missing level
  // one by one surfaces the real cause (EROFS, EACCES, ENOSPC) for the operator.
  private async realMkdirError(dir: string, err: unknown): Promise<unknown> {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !dir.startsWith(this.root)) return err;
    let path = this.root;
    for (const segment of dir.slice(this.root.length).split(sep).filter(Boolean)) {
      path = join(path, segment);
      try {
        await mkdir(path);
      } catch (levelErr) {
        if ((levelErr as NodeJS.ErrnoException).code !== 'EEXIST') return levelErr;
      }
    }
    return err;
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
