/**
 * The MANIFEST argument of verify and import, checked before anything else is opened: a
 * directory (the USB disk's mount point, a bundle's --out) is the commonest slip, and it
 * deserves the file names to choose from rather than EISDIR and exit 5.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../errors.js';

const MANIFEST_SUFFIX = '.manifest.json';

/** Throws a UsageError when `path` is a directory; anything else is left to the reader. */
export async function refuseDirectoryAsManifest(path: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (info?.isDirectory()) throw await directoryGiven(path);
}

export async function directoryGiven(dir: string): Promise<UsageError> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const manifests = names.filter((n) => n.endsWith(MANIFEST_SUFFIX)).sort();
  const choices = manifests.map((n) => join(dir, n));
  const question =
    choices.length === 0
      ? `it holds no *${MANIFEST_SUFFIX}`
      : choices.length === 1
        ? `did you mean ${choices[0]}?`
        : `did you mean one of: ${choices.join(', ')}?`;
  return new UsageError(`expected a manifest file, got a directory: ${dir}; ${question}`, {
    hint:
      choices.length === 0
        ? `give the NAME${MANIFEST_SUFFIX} that \`airlock bundle\` wrote beside the parts`
        : `give the NAME${MANIFEST_SUFFIX} of the bundle (bundles are verified and imported oldest first)`,
  });
}
