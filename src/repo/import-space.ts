/**
 * The free-space check an import makes before it writes, as `bundle` does: a repository disk
 * that fills at 90% leaves an import to clean up and a night lost. The figure is an upper
 * bound (blobs already in the repository are not written again), so the check is made only
 * where the backend has a free-space figure: a directory. S3 has none.
 */
import { requireFreeSpace } from '../free-space.js';
import type { BundleManifest } from '../bundle/manifest.js';
import { formatSize } from '../size.js';
import { FsStorage } from './fs-storage.js';
import type { Storage } from './storage.js';

// Room for the snapshot documents (about the size of the index), temp files and directories;
// and each blob's last block, which a file system allocates whole.
const MARGIN = 4 * 1024 * 1024;
const BLOCK = 4096;

export async function requireImportSpace(
  storage: Storage,
  manifest: BundleManifest,
): Promise<void> {
  if (!(storage instanceof FsStorage)) return;
  const needed = manifest.blobBytes + manifest.blobCount * BLOCK + 2 * manifest.index.size + MARGIN;
  await requireFreeSpace(
    storage.location,
    needed,
    `importing bundle ${manifest.name} (${formatSize(manifest.blobBytes)} of blobs, at most)`,
    'the disk is full for this import: free space in the repository (or move it to a larger disk), then run the same import again',
  );
}
