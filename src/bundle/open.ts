/**
 * Opens a bundle for reading: its manifest, the signature check, and the cheap checks that
 * need no hashing (every part present at its size). Hashes are checked by readBundle, in the
 * one pass that also reads the tar; a carried release (a few tens of MB) is hashed here.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { IntegrityError, storageErrorFrom, UsageError } from '../errors.js';
import { signatureFileName, SUMS_FILE } from './bundle-names.js';
import { checkCarriedRelease } from './carried-release.js';
import type { SignatureStatus } from './events.js';
import { parseManifest, type BundleManifest, type ManifestPart } from './manifest.js';
import { directoryGiven } from './manifest-path.js';
import { keyFingerprint } from './key-fingerprint.js';
import { loadPublicKey, parsePublicKey, signingKey } from './signing.js';
import { sizeIfPresent } from './size-if-present.js';
import { readSumsFile } from './sums-file.js';

export interface OpenedBundle {
  dir: string;
  manifestPath: string;
  manifest: BundleManifest;
  manifestBytes: Buffer;
  /**
   * 'verified': signed by one of the keys given; 'unchecked': signed, but by no key given (none
   * given, or let through by allowUnsigned); 'unsigned': no `.sig` file.
   */
  signature: SignatureStatus;
  /** Fingerprint (key-fingerprint.ts) of the key that verified the signature. */
  signer?: string;
  /**
   * Damage found in SHA256SUMS that the signed manifest outranks: reported, not fatal. A line
   * for a part is only damaged if the part then matches the manifest (readBundle checks that).
   */
  sumsWarnings: string[];
}

export interface OpenBundleOptions {
  /** Path of a public key (PEM): the bundle must be signed with it (`verify --trust`). */
  trust?: string;
  /** Public keys as PEM text (a repository's trusted keys): the bundle must be signed by one. */
  trustedKeys?: string[];
  /** Who gave the keys, for messages (default: "--trust"). */
  keysFrom?: string;
  /** Appended to the hint of a refused signature: how the caller lets such a bundle through. */
  overrideHint?: string;
  /**
   * With keys: let an unsigned bundle, or one signed by none of the keys, through as
   * 'unsigned' or 'unchecked' instead of refusing it (`import --allow-unsigned`).
   */
  allowUnsigned?: boolean;
}

export async function openBundle(
  manifestPath: string,
  opts: OpenBundleOptions = {},
): Promise<OpenedBundle> {
  const keys = await trustedKeys(opts);
  const manifestBytes = await readManifest(manifestPath);
  // The signature first: when it verifies, the manifest is authentic whatever SHA256SUMS says.
  const { signature, signer } = await checkSignature(manifestPath, manifestBytes, keys, opts);
  const manifest = parseManifest(manifestBytes, manifestPath);
  const dir = dirname(manifestPath);
  const sumsWarnings = await checkAgainstSums(
    dir,
    manifestPath,
    manifestBytes,
    manifest,
    signature,
  );
  await checkPartsPresent(dir, manifest);
  if (manifest.release) await checkCarriedRelease(dir, manifest.release);
  return {
    dir,
    manifestPath,
    manifest,
    manifestBytes,
    signature,
    ...(signer === undefined ? {} : { signer }),
    sumsWarnings,
  };
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
  opts: OpenBundleOptions,
): Promise<{ signature: SignatureStatus; signer?: string }> {
  const sigPath = join(dirname(manifestPath), signatureFileName(basename(manifestPath)));
  let sig: Buffer | undefined;
  try {
    sig = await readFile(sigPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw storageErrorFrom(err, 'read', sigPath);
  }
  if (keys.length === 0) return { signature: sig === undefined ? 'unsigned' : 'unchecked' };
  const from = opts.keysFrom ?? '--trust';
  if (sig === undefined) {
    if (opts.allowUnsigned) return { signature: 'unsigned' };
    throw new IntegrityError(
      `${manifestPath} is unsigned (no ${basename(sigPath)}): an unsigned bundle is refused under ${from}`,
      {
        code: 'EUNSIGNED',
        hint: `copy the .sig file from the source media too; if the bundle was made without --sign-key, make it again with one${opts.overrideHint ?? ''}`,
      },
    );
  }
  const key = signingKey(manifestBytes, sig, keys);
  if (key) return { signature: 'verified', signer: keyFingerprint(key) };
  if (opts.allowUnsigned) return { signature: 'unchecked' };
  const known = keys.map(keyFingerprint).join(', ');
  throw new IntegrityError(
    `the signature ${sigPath} does not match: the manifest was modified after signing, or signed with another key (not ${known}, the key(s) of ${from})`,
    {
      code: 'ESIGNATURE',
      hint: `do not import this bundle; copy the manifest and .sig again from the source media, or check that ${from} names the key of the producer (compare fingerprints with \`airlock trust fingerprint KEY.pub\`)${opts.overrideHint ?? ''}`,
    },
  );
}

/**
 * SHA256SUMS guards against transport damage only; the manifest (when its signature verified)
 * is the authority. A manifest whose signature verified but whose SHA256SUMS line differs means
 * SHA256SUMS is damaged: a warning. An unsigned or unchecked manifest has nothing above it, so
 * a disagreement is refused, naming both files. Part lines are compared with the manifest's
 * hashes (the parts themselves are hashed by readBundle, which names a damaged part).
 */
async function checkAgainstSums(
  dir: string,
  manifestPath: string,
  manifestBytes: Buffer,
  manifest: BundleManifest,
  signature: SignatureStatus,
): Promise<string[]> {
  const sums = await readSumsFile(dir);
  const warnings = sums.malformed.map(
    (lineNo) =>
      `${join(dir, SUMS_FILE)} line ${lineNo} is not a "<sha256>  <name>" line: SHA256SUMS is damaged (it only guards against transport damage; the manifest is checked on its own)`,
  );
  const manifestName = basename(manifestPath);
  const line = sums.lines.find((l) => l.name === manifestName);
  if (line && createHash('sha256').update(manifestBytes).digest('hex') !== line.sha256) {
    if (signature !== 'verified') {
      throw new IntegrityError(
        `${manifestPath} does not match its line in SHA256SUMS: the manifest or SHA256SUMS was damaged in transport or edited, and with no verified signature neither can be trusted over the other`,
        {
          code: 'EMANIFEST',
          hint: 'copy the manifest and SHA256SUMS again from the source media (`sha256sum -c SHA256SUMS` shows which one differs); never edit them. A signed bundle checked with its key is not blocked by a damaged SHA256SUMS',
        },
      );
    }
    warnings.push(
      `${join(dir, SUMS_FILE)} is damaged: its line for ${manifestName} does not match, but the manifest's signature verifies, so the manifest is intact (SHA256SUMS only guards against transport damage; the signed manifest is the authority)`,
    );
  }
  for (const part of manifest.parts) {
    const partLine = sums.lines.find((l) => l.name === part.name);
    if (partLine && partLine.sha256 !== part.sha256) {
      warnings.push(
        `${join(dir, SUMS_FILE)} is damaged: its line for ${part.name} differs from the manifest, and the part matches the manifest (SHA256SUMS only guards against transport damage; the manifest is the authority)`,
      );
    }
  }
  return warnings;
}

async function checkPartsPresent(dir: string, manifest: BundleManifest): Promise<void> {
  const problems: string[] = [];
  for (const part of manifest.parts) {
    const path = join(dir, part.name);
    const size = await sizeIfPresent(path);
    if (size === undefined) {
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
