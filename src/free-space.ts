/**
 * The free-space checks made before a download, a bundle or an import writes anything:
 * failing at 90% helps nobody.
 */
import { statfs } from 'node:fs/promises';
import { StorageError, storageErrorFrom } from './errors.js';
import { formatSize } from './size.js';

/** Bytes an unprivileged writer may still use at `dir`; a failing statfs is a storage error. */
export async function freeBytes(dir: string): Promise<number> {
  try {
    const fs = await statfs(dir);
    return fs.bavail * fs.bsize;
  } catch (err) {
    throw storageErrorFrom(err, 'check free space at', dir);
  }
}

export async function requireFreeSpace(
  dir: string,
  needed: number,
  what: string,
  hint = 'free space there, choose another --out, or bundle less (--source, --snapshot, or a delta)',
): Promise<void> {
  const available = await freeBytes(dir);
  if (available < needed) {
    throw new StorageError(
      `${dir} has ${formatSize(available)} (${available} bytes) free; ${what} needs ${formatSize(needed)} (${needed} bytes)`,
      {
        code: 'ENOSPC',
        hint,
      },
    );
  }
}
