import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateKeyPairFiles } from '../../src/bundle/keygen.js';
import {
  loadPrivateKey,
  loadPublicKey,
  signatureMatches,
  signManifest,
} from '../../src/bundle/signing.js';
import { caught } from './bundle-fixture.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-keygen-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('airlock keygen', () => {
  it('writes a PKCS#8 private key (0600) and an SPKI public key that sign and verify', async () => {
    const keys = await generateKeyPairFiles(join(dir, 'airlock'));
    expect((await stat(keys.privateKeyPath)).mode & 0o777).toBe(0o600);
    expect(await readFile(keys.privateKeyPath, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(await readFile(keys.publicKeyPath, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(keys.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    const data = Buffer.from('manifest bytes');
    const sig = signManifest(data, await loadPrivateKey(keys.privateKeyPath));
    expect(signatureMatches(data, sig, [await loadPublicKey(keys.publicKeyPath)])).toBe(true);
    expect(
      signatureMatches(Buffer.from('other bytes'), sig, [await loadPublicKey(keys.publicKeyPath)]),
    ).toBe(false);
  });

  it('never overwrites an existing key', async () => {
    const first = await generateKeyPairFiles(join(dir, 'airlock'));
    const before = await readFile(first.privateKeyPath, 'utf8');
    const err = await caught(() => generateKeyPairFiles(join(dir, 'airlock')));
    expect(err).toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('never overwrites'),
    });
    expect(await readFile(first.privateKeyPath, 'utf8')).toBe(before);
  });

  it('refuses a public key given as the signing key, naming the option', async () => {
    const keys = await generateKeyPairFiles(join(dir, 'airlock'));
    const err = await caught(() => loadPrivateKey(keys.publicKeyPath));
    expect(err).toMatchObject({ exitCode: 2, message: expect.stringContaining('--sign-key') });
  });
});
