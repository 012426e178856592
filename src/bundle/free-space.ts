/**
 * The free-space check made before a bundle or an import writes anything: failing at 90%
 * helps nobody.
 */
import { statfs } from 'node:fs/promises';
import { StorageError, storageErrorFrom } from '../errors.js';
import { formatSize } from './size.js';

export async function requireFreeSpace(
  dir: string,
  needed: number,
  what: string,
  hint = 'free space there, choose another --out, or bundle less (--source, --snapshot, or a delta)',
): Promise<void> {
  let available: number;
  try {
    const fs = await statfs(dir);
    available = fs.bavail * fs.bsize;
  } catch (err) {
    throw storageErrorFrom(err, 'check free space at', dir);
  }
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
