/** Index files are small: they are fetched whole, then stored as blobs like any other file. */
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { storageErrorFrom } from '../errors.js';
import type { EntryRole, Provenance, SnapshotEntry, Variant } from '../model.js';
import type { Workspace } from '../workspace/workspace.js';

export async function storeBytes(
  workspace: Workspace,
  bytes: Buffer,
): Promise<{ sha256: string; md5: string }> {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const md5 = createHash('md5').update(bytes).digest('hex');
  if (!workspace.hasBlob(sha256)) {
    const temp = join(workspace.blobs.tmpDir, `index-${randomBytes(8).toString('hex')}.tmp`);
    try {
      await writeFile(temp, bytes);
    } catch (err) {
      throw storageErrorFrom(err, 'write', temp);
    }
    await workspace.blobs.commit(temp, sha256);
  }
  return { sha256, md5 };
}

export async function storeIndexEntry(
  workspace: Workspace,
  bytes: Buffer,
  where: { path: string; variant: Variant; role?: EntryRole },
  provenance: Provenance,
): Promise<SnapshotEntry & { md5: string }> {
  const { sha256, md5 } = await storeBytes(workspace, bytes);
  return {
    path: where.path,
    variant: where.variant,
    role: where.role ?? 'index',
    sha256,
    md5,
    size: bytes.length,
    provenance,
  };
}
