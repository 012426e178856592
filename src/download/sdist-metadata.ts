/**
 * `PKG-INFO` from an sdist (`{name}-{version}/PKG-INFO` in a .tar.gz, PEP 643 / the sdist
 * spec) on disk, streamed: nothing is extracted, and reading stops mattering after that one
 * small entry.
 */
import { list, type ReadEntry } from 'tar';
import { IntegrityError } from '../errors.js';

// The top-level PKG-INFO only: setuptools also writes one under *.egg-info/.
const PKG_INFO = /^[^/]+\/PKG-INFO$/;
const MAX_PKG_INFO = 4 * 1024 * 1024;

export async function readSdistMetadata(path: string, filename: string): Promise<string> {
  const chunks: Buffer[] = [];
  let found = false;
  try {
    await list({
      file: path,
      onReadEntry: (entry: ReadEntry) => {
        if (found || !PKG_INFO.test(entry.path) || entry.size > MAX_PKG_INFO) return;
        found = true;
        entry.on('data', (chunk: Buffer) => chunks.push(chunk));
      },
    });
  } catch (err) {
    throw new IntegrityError(`${filename}: not a readable .tar.gz: ${(err as Error).message}`, {
      code: 'ESDIST',
      hint: 'the sdist is corrupt upstream: its dependencies cannot be read',
    });
  }
  if (!found) {
    throw new IntegrityError(`${filename} has no {name}-{version}/PKG-INFO`, {
      code: 'ESDIST',
      hint: 'the sdist does not follow the sdist format: its dependencies cannot be read',
    });
  }
  return Buffer.concat(chunks).toString('utf8');
}
