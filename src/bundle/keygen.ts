/**
 * `airlock keygen --out PREFIX`: an Ed25519 pair as PREFIX.key (PKCS#8 PEM, mode 0600) and
 * PREFIX.pub (SPKI PEM). Never overwrites: replacing a key silently would orphan every bundle
 * signed with it.
 */
import { generateKeyPairSync } from 'node:crypto';
import { open, unlink } from 'node:fs/promises';
import { storageErrorFrom, UsageError } from '../errors.js';
import { keyFingerprint } from './key-fingerprint.js';

export interface KeyPairFiles {
  privateKeyPath: string;
  publicKeyPath: string;
  /** `SHA256:…` (see key-fingerprint.ts): to compare keys by eye or by phone on both sides. */
  fingerprint: string;
}

export async function generateKeyPairFiles(prefix: string): Promise<KeyPairFiles> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const privateKeyPath = `${prefix}.key`;
  const publicKeyPath = `${prefix}.pub`;
  await writeNew(privateKeyPath, privatePem, 0o600);
  try {
    await writeNew(publicKeyPath, publicPem, 0o644);
  } catch (err) {
    await unlink(privateKeyPath).catch(() => undefined);
    throw err;
  }
  return {
    privateKeyPath,
    publicKeyPath,
    fingerprint: keyFingerprint(publicKey),
  };
}

async function writeNew(path: string, text: string, mode: number): Promise<void> {
  let handle;
  try {
    // 'wx' creates the file with its final mode, so the private key is never world-readable.
    handle = await open(path, 'wx', mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UsageError(`${path} already exists: airlock keygen never overwrites a key`, {
        hint: 'choose another --out PREFIX, or remove the old pair if you are sure it is unused',
      });
    }
    throw storageErrorFrom(err, 'create', path);
  }
  try {
    await handle.writeFile(text);
    await handle.chmod(mode);
    await handle.sync();
  } catch (err) {
    throw storageErrorFrom(err, 'write', path);
  } finally {
    await handle.close();
  }
}
