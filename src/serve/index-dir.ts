/**
 * The server's private scratch directory, `{TMPDIR}/airlock-serve-{pid}-XXXXXX`, holding the
 * on-disk index of each snapshot document it serves. It is scratch: removed by close(), and
 * what a killed server (kill -9, power loss) left is removed by the next server on this host.
 */
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { StorageError } from '../errors.js';
import { makePidTempDir } from '../repo/import-temp.js';

const PREFIX = 'airlock-serve-';

/** Creates the directory under `parent` (default: the system temp directory, $TMPDIR). */
export async function makeIndexDir(parent = tmpdir()): Promise<string> {
  try {
    return await makePidTempDir(PREFIX, parent);
  } catch (err) {
    throw indexStorageError(err, 'create a scratch directory in', parent);
  }
}

export async function removeIndexDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/**
 * A failure to write the local indexes: the repository itself is fine, the temp directory is
 * not, so the hint points at TMPDIR rather than at the repository.
 */
export function indexStorageError(err: unknown, action: string, path: string): StorageError {
  const code = (err as { code?: unknown } | undefined)?.code;
  const what = err instanceof Error ? err.message : String(err);
  return new StorageError(`cannot ${action} ${path}: ${what}`, {
    hint:
      'airlock serve keeps an index of each served snapshot in a private temp directory: ' +
      'set TMPDIR to a writable directory with free space (about 15 MB per 100,000 files served), then start it again',
    cause: err,
    code: typeof code === 'string' ? code : 'ESTORAGE',
  });
}
