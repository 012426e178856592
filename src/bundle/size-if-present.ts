/**
 * The size of a file beside the manifest, or undefined when it is not there: a missing part or
 * carried file is the operator's to re-copy (named in the bundle's own words), any other fs
 * error is a storage failure.
 */
import { stat } from 'node:fs/promises';
import { storageErrorFrom } from '../errors.js';

export async function sizeIfPresent(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw storageErrorFrom(err, 'read', path);
  }
}
