/**
 * The workspace's content-addressed files: `blobs/ab/<sha256>`, plain bytes named by their
 * sha256, so `sha256sum` alone can audit them. A file enters only through `commit`, after the
 * caller verified it; `tmp/` holds everything not yet verified (partial downloads included).
 *
 * Per-file cost matters (a mirror is hundreds of thousands of small files): the store remembers
 * which blob directories exist and which temp names may exist, so a commit is one rename and a
 * fresh download never probes for leftovers that are not there.
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { storageErrorFrom } from '../errors.js';
import { makeDirectory } from '../make-directory.js';
import { SHA256_HEX } from '../model.js';

export interface CommitOptions {
  /** The caller already fsynced the temp file (streamToPart syncs a body that ended cleanly). */
  synced?: boolean;
}

export class BlobStore {
  readonly root: string;
  readonly blobsDir: string;
  readonly tmpDir: string;
  private ready: Promise<void> | undefined;
  /** Blob directories known to exist. */
  private readonly knownDirs = new Set<string>();
  /** Directories with a rename in them that is not yet durable. */
  private readonly unsyncedDirs = new Set<string>();
  /**
   * Names in tmp/ that may exist: the listing taken by init() plus what this process created
   * since. The workspace lock makes this process the only writer of tmp/. Undefined before init.
   */
  private tmpNames: Set<string> | undefined;

  /** `root` is the workspace directory. */
  constructor(root: string) {
    this.root = root;
    this.blobsDir = join(root, 'blobs');
    this.tmpDir = join(root, 'tmp');
  }

  blobPath(sha256: string): string {
    if (!SHA256_HEX.test(sha256))
      throw new TypeError(`not a lowercase sha256 hex digest: ${sha256}`);
    return join(this.blobsDir, sha256.slice(0, 2), sha256);
  }

  /** Creates blobs/ and tmp/ once and lists tmp/; every writer awaits it. */
  init(): Promise<void> {
    this.ready ??= (async () => {
      for (const dir of [this.blobsDir, this.tmpDir]) {
        try {
          await makeDirectory(dir);
        } catch (error) {
          throw storageErrorFrom(error, 'create directory', dir);
        }
      }
      try {
        this.tmpNames = new Set(await readdir(this.tmpDir));
      } catch (error) {
        throw storageErrorFrom(error, 'list', this.tmpDir);
      }
    })();
    return this.ready;
  }

  hasSync(sha256: string): boolean {
    return existsSync(this.blobPath(sha256));
  }

  /** The blob's size in bytes, or undefined when it is absent. */
  async size(sha256: string): Promise<number | undefined> {
    try {
      return (await stat(this.blobPath(sha256))).size;
    } catch {
      return undefined;
    }
  }

  sizeSync(sha256: string): number | undefined {
    try {
      return statSync(this.blobPath(sha256)).size;
    } catch {
      return undefined;
    }
  }

  /** False only when `path` (in tmp/) is certainly absent: not listed at init nor created since. */
  mayHaveTemp(path: string): boolean {
    return this.tmpNames === undefined || this.tmpNames.has(basename(path));
  }

  /** Call before creating a file in tmp/, so mayHaveTemp() knows of it even if the write dies. */
  noteTemp(path: string): void {
    this.tmpNames?.add(basename(path));
  }

  /** Removes a temp file if it may exist; absent is fine. */
  async removeTemp(path: string): Promise<void> {
    if (!this.mayHaveTemp(path)) return;
    try {
      await unlink(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        throw storageErrorFrom(error, 'remove', path);
    }
    this.tmpNames?.delete(basename(path));
  }

  /**
   * Moves a verified temp file (on the same file system, e.g. under tmpDir) into place.
   * The file is fsynced before the rename, so after a power loss a blob name never points at
   * bytes that were not written. A blob already present has the same bytes by construction:
   * renaming over it is harmless (and replaces a copy that rotted since with a verified one).
   * The directory entry becomes durable in syncDirectories(), which callers run before they
   * record the blob anywhere (state.db); until then a power loss can only lose the name, and
   * a lost blob is fetched again because every run checks the file, not the record.
   */
  async commit(tempPath: string, sha256: string, opts: CommitOptions = {}): Promise<void> {
    const target = this.blobPath(sha256);
    const dir = dirname(target);
    if (opts.synced !== true) await fsyncPath(tempPath, 'r+');
    await this.ensureDir(dir);
    try {
      await rename(tempPath, target).catch(async (error: NodeJS.ErrnoException) => {
        // The directory was removed behind our back (someone cleaning blobs/ by hand): once more.
        if (error.code !== 'ENOENT' || !existsSync(tempPath)) throw error;
        this.knownDirs.delete(dir);
        await this.ensureDir(dir);
        await rename(tempPath, target);
      });
    } catch (error) {
      throw storageErrorFrom(error, 'move a verified file to', target);
    }
    this.tmpNames?.delete(basename(tempPath));
    this.unsyncedDirs.add(dir);
  }

  /** Makes every rename done by commit() so far durable (one fsync per directory touched). */
  async syncDirectories(): Promise<void> {
    const dirs = [...this.unsyncedDirs];
    this.unsyncedDirs.clear();
    try {
      await Promise.all(dirs.map((dir) => fsyncPath(dir, 'r')));
    } catch (error) {
      dirs.forEach((dir) => this.unsyncedDirs.add(dir));
      throw error;
    }
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    try {
      const created = await mkdir(dir, { recursive: true });
      if (created !== undefined) this.unsyncedDirs.add(this.blobsDir);
    } catch (error) {
      throw storageErrorFrom(error, 'create directory', dir);
    }
    this.knownDirs.add(dir);
  }
}

async function fsyncPath(path: string, flags: 'r' | 'r+'): Promise<void> {
  try {
    const handle = await open(path, flags);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw storageErrorFrom(error, 'fsync', path);
  }
}
