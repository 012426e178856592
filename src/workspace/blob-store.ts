/**
 * The workspace's content-addressed files: `blobs/ab/<sha256>`, plain bytes named by their
 * sha256, so `sha256sum` alone can audit them. A file enters only through `commit`, after the
 * caller verified it; `tmp/` holds everything not yet verified (partial downloads included).
 */
import { existsSync, statSync } from 'node:fs';
import { access, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { storageErrorFrom } from '../errors.js';
import { SHA256_HEX } from '../model.js';

export class BlobStore {
  readonly root: string;
  readonly blobsDir: string;
  readonly tmpDir: string;
  private ready: Promise<void> | undefined;

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

  /** Creates blobs/ and tmp/ once; every writer awaits it. */
  init(): Promise<void> {
    this.ready ??= (async () => {
      for (const dir of [this.blobsDir, this.tmpDir]) {
        try {
          await mkdir(dir, { recursive: true });
        } catch (error) {
          throw storageErrorFrom(error, 'create directory', dir);
        }
      }
    })();
    return this.ready;
  }

  async has(sha256: string): Promise<boolean> {
    try {
      await access(this.blobPath(sha256));
      return true;
    } catch {
      return false;
    }
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

  /**
   * Moves a verified temp file (on the same file system, e.g. under tmpDir) into place.
   * The file is fsynced before the rename, so after a power loss a blob name never points at
   * bytes that were not written; the directory is fsynced after, so the name itself survives.
   * A blob already present has the same bytes by construction: the temp file is dropped.
   */
  async commit(tempPath: string, sha256: string): Promise<void> {
    const target = this.blobPath(sha256);
    const dir = dirname(target);
    await fsyncPath(tempPath, 'r+');
    try {
      const created = await mkdir(dir, { recursive: true });
      if (created !== undefined) await fsyncPath(this.blobsDir, 'r');
    } catch (error) {
      throw storageErrorFrom(error, 'create directory', dir);
    }
    if (await this.has(sha256)) {
      await unlink(tempPath).catch(() => undefined);
      return;
    }
    try {
      await rename(tempPath, target);
    } catch (error) {
      throw storageErrorFrom(error, 'move a verified file to', target);
    }
    await fsyncPath(dir, 'r');
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
