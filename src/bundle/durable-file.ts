/** Small files made durable the one safe way: temp name, fsync, rename, then fsync the directory. */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { storageErrorFrom } from '../errors.js';

export async function writeFileDurably(path: string, bytes: Buffer | string): Promise<void> {
  // A unique temp name: a crashed run's leftover temp file never blocks the next run.
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw storageErrorFrom(err, 'write', path);
  }
}

/**
 * Makes renames in a directory durable. Some file systems (FAT32 on USB disks among them)
 * cannot fsync a directory; their renames are as durable as they get, so that is not an error.
 */
export async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Not supported here (EINVAL, EISDIR, EPERM): nothing more can be done.
  }
}
