/**
 * Opens a bundle for reading: its manifest, the signature check, and the cheap checks that
 * need no hashing (every part present at its size). Hashes are checked by readBundle, in the
 * one pass that also reads the tar.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { IntegrityError, storageErrorFrom, UsageError } from '../errors.js';
import { signatureFileName } from './bundle-names.js';
import type { SignatureStatus } from './events.js';
import { parseManifest, type BundleManifest, type ManifestPart } from './manifest.js';
import { directoryGiven } from './manifest-path.js';
import { loadPublicKey, parsePublicKey, signatureMatches } from './signing.js';
import { readSums } from './sums-file.js';

export interface OpenedBundle {
  dir: string;
  manifestPath: string;
  manifest: BundleManifest;
  manifestBytes: Buffer;
  /** 'unchecked': signed, but no key was given to check it with. */
  signature: SignatureStatus;
}

export interface OpenBundleOptions {
  /** Path of a trusted public key (PEM). */
  trust?: string;
  /** Refuse an unsigned bundle even without `trust` (a repository policy). */
  requireSignature?: boolean;
  /** Trusted public keys as PEM text, as an alternative to `trust`. */
  trustedKeys?: string[];
}

export async function openBundle(
  manifestPath: string,
  opts: OpenBundleOptions = {},
): Promise<OpenedBundle> {
  const keys = await trustedKeys(opts);
  const manifestBytes = await readManifest(manifestPath);
  const signature = await checkSignature(
    manifestPath,
    manifestBytes,
    keys,
    opts.requireSignature === true,
  );
  const manifest = parseManifest(manifestBytes, manifestPath);
  const dir = dirname(manifestPath);
  await checkAgainstSums(dir, basename(manifestPath), manifestBytes);
  await checkPartsPresent(dir, manifest);
  return { dir, manifestPath, manifest, manifestBytes, signature };
}

/** "part 3 of 7 (NAME.part003)": how every message names a part. */
export function describePart(manifest: BundleManifest, part: ManifestPart): string {
  return `part ${part.index} of ${manifest.partCount} (${part.name})`;
}

async function trustedKeys(opts: OpenBundleOptions): Promise<KeyObject[]> {
  const keys = (opts.trustedKeys ?? []).map((pem, i) =>
    parsePublicKey(pem, `trusted key ${i + 1}`),
  );
  if (opts.trust !== undefined) keys.push(await loadPublicKey(opts.trust));
  if (opts.requireSignature && keys.length === 0) {
    throw new UsageError('a signed bundle is required but no trusted public key was given', {
      hint: 'give --trust PUBLIC_KEY (the PREFIX.pub of the key that signs the bundles)',
    });
  }
  return keys;
}

async function readManifest(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EISDIR') throw await directoryGiven(path);
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new UsageError(`bundle manifest ${path} does not exist`, {
        hint: 'give the NAME.manifest.json beside the parts; a bundle without its manifest is incomplete: copy it again or make a new bundle',
      });
    }
    throw storageErrorFrom(err, 'read', path);
  }
}

async function checkSignature(
  manifestPath: string,
  manifestBytes: Buffer,
  keys: KeyObject[],
  required: boolean,
): Promise<SignatureStatus> {
  const sigPath = join(dirname(manifestPath), signatureFileName(basename(manifestPath)));
  let sig: Buffer | undefined;
  try {
    sig = await readFile(sigPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw storageErrorFrom(err, 'read', sigPath);
  }
  if (keys.length === 0) return sig === undefined ? 'unsigned' : 'unchecked';
  if (sig === undefined) {
    throw new IntegrityError(
      `${manifestPath} is unsigned (no ${basename(sigPath)}): an unsigned bundle is refused under --trust${required ? ' and by this repository' : ''}`,
      {
        code: 'EUNSIGNED',
        hint: 'copy the .sig file from the source media too; if the bundle was made without --sign-key, make it again with one',
      },
    );
  }
  if (!signatureMatches(manifestBytes, sig, keys)) {
    throw new IntegrityError(
      `the signature ${sigPath} does not match: the manifest was modified after signing, or signed with another key`,
      {
        code: 'ESIGNATURE',
        hint: 'do not import this bundle; copy the manifest and .sig again from the source media, or check that --trust names the key of the producer',
      },
    );
  }
  return 'verified';
}

/** A manifest edited after bundling disagrees with SHA256SUMS, when that file came along. */
async function checkAgainstSums(
  dir: string,
  manifestName: string,
  manifestBytes: Buffer,
): Promise<void> {
  const line = (await readSums(dir)).find((l) => l.name === manifestName);
  if (!line) return;
  if (createHash('sha256').update(manifestBytes).digest('hex') !== line.sha256) {
    throw new IntegrityError(
      `${join(dir, manifestName)} does not match its line in SHA256SUMS: the manifest was modified after bundling`,
      {
        code: 'EMANIFEST',
        hint: 'copy the manifest again from the source media; never edit it',
      },
    );
  }
}

async function checkPartsPresent(dir: string, manifest: BundleManifest): Promise<void> {
  const problems: string[] = [];
  for (const part of manifest.parts) {
    const path = join(dir, part.name);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw storageErrorFrom(err, 'read', path);
      problems.push(`${describePart(manifest, part)} is missing: copy it from the source media`);
      continue;
    }
    if (size === part.size) continue;
    const swapped = manifest.parts.find((other) => other !== part && other.size === size);
    const how = size < part.size ? 'is truncated' : 'is larger than expected';
    problems.push(
      `${describePart(manifest, part)} ${how} (${size} bytes, expected ${part.size}): re-copy part ${part.index} of ${manifest.partCount}` +
        (swapped
          ? ` (its size is that of part ${swapped.index}: were the parts renamed or swapped?)`
          : ''),
    );
  }
  if (problems.length > 0) {
    throw new IntegrityError(problems.join('; '), {
      code: 'EPART',
      hint: `copy the parts named above again from the source media into ${dir}, then run again`,
    });
  }
}
