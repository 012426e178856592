/**
 * Detached Ed25519 signatures over the exact bytes of NAME.manifest.json (node:crypto only).
 * The manifest holds every part's sha256 and the inner index's sha256, so one signature
 * covers every byte of the bundle. The `.sig` file holds the base64 signature and a newline.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';

export async function loadPrivateKey(path: string, option = '--sign-key'): Promise<KeyObject> {
  const pem = await readKeyFile(path, option);
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new UsageError(`${option} ${path} is not a private key`, {
      hint: 'give the PREFIX.key file written by `airlock keygen --out PREFIX`',
      cause: err,
    });
  }
  return requireEd25519(key, path, option);
}

export async function loadPublicKey(path: string, option = '--trust'): Promise<KeyObject> {
  return parsePublicKey(await readKeyFile(path, option), `${option} ${path}`);
}

/** A public key from PEM text; `what` names where it came from in errors. */
export function parsePublicKey(pem: string, what: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new UsageError(`${what} is not a public key`, {
      hint: 'give the PREFIX.pub file written by `airlock keygen --out PREFIX`',
      cause: err,
    });
  }
  return requireEd25519(key, what, '');
}

export function signManifest(manifestBytes: Buffer, key: KeyObject): Buffer {
  return Buffer.from(`${sign(null, manifestBytes, key).toString('base64')}\n`);
}

/** True when the `.sig` file's contents are a valid signature of the bytes by one of the keys. */
export function signatureMatches(
  manifestBytes: Buffer,
  sigFile: Buffer,
  keys: KeyObject[],
): boolean {
  return signingKey(manifestBytes, sigFile, keys) !== undefined;
}

/** The key whose valid signature of the bytes the `.sig` file holds, if one of `keys` made it. */
export function signingKey(
  manifestBytes: Buffer,
  sigFile: Buffer,
  keys: KeyObject[],
): KeyObject | undefined {
  const text = sigFile.toString('latin1').trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  const signature = Buffer.from(text, 'base64');
  return keys.find((key) => verify(null, manifestBytes, key, signature));
}

async function readKeyFile(path: string, option: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${option} ${path}: ${(err as Error).message}`, {
      hint: 'check the path; `airlock keygen --out PREFIX` writes PREFIX.key and PREFIX.pub',
      cause: err,
    });
  }
}

function requireEd25519(key: KeyObject, what: string, option: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new UsageError(
      `${option} ${what} is a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`.trim(),
      {
        hint: 'airlock signs with Ed25519 keys: make a pair with `airlock keygen --out PREFIX`',
      },
    );
  }
  return key;
}
