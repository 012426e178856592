/**
 * SHA256SUMS only guards against transport damage; a manifest whose signature verifies is the
 * authority. A damaged SHA256SUMS line beside a good signed bundle is a warning naming
 * SHA256SUMS, never a refusal blaming the manifest; without a verified signature a
 * disagreement is refused, naming both files; a damaged part is named as the part.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairFiles, type KeyPairFiles } from '../../src/bundle/keygen.js';
import { verifyBundle } from '../../src/bundle/verify.js';
import { runAirlock } from '../helpers/cli.js';
import { wellFormed, type CraftedBundle } from '../helpers/craft-bundle.js';
import { caught } from './bundle-fixture.js';

let dir: string;
let keys: KeyPairFiles;
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-sums-'));
  keys = await generateKeyPairFiles(join(dir, 'k'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function signedBundle(): Promise<CraftedBundle> {
  const out = join(dir, `b${n++}`);
  await mkdir(out);
  return wellFormed(out, keys.privateKeyPath);
}

/** Flips one hex digit of the SHA256SUMS line that names `file`. */
async function damageSumsLine(b: CraftedBundle, file: string): Promise<void> {
  const path = join(b.dir, 'SHA256SUMS');
  const lines = (await readFile(path, 'utf8')).split('\n').map((line) => {
    if (!line.endsWith(`  ${file}`)) return line;
    return `${line[0] === '0' ? '1' : '0'}${line.slice(1)}`;
  });
  await writeFile(path, lines.join('\n'));
}

describe('a damaged SHA256SUMS beside a signed bundle', { timeout: 30_000 }, () => {
  it('verifies the bundle and warns that SHA256SUMS is damaged (manifest line)', async () => {
    const b = await signedBundle();
    await damageSumsLine(b, `${b.name}.manifest.json`);
    const summary = await verifyBundle(b.manifestPath, { trust: keys.publicKeyPath });
    expect(summary.signature).toBe('verified');
    expect(summary.warnings).toHaveLength(1);
    expect(summary.warnings[0]).toContain('SHA256SUMS is damaged');
    expect(summary.warnings[0]).toContain('signature verifies');
  });

  it('verifies the bundle and warns that SHA256SUMS is damaged (part line)', async () => {
    const b = await signedBundle();
    const part = b.manifest.parts[0]!.name;
    await damageSumsLine(b, part);
    const summary = await verifyBundle(b.manifestPath, { trust: keys.publicKeyPath });
    expect(summary.warnings).toEqual([expect.stringContaining(`its line for ${part} differs`)]);
  });

  it('imports it too, printing the warning, with exit 0', async () => {
    const b = await signedBundle();
    await damageSumsLine(b, `${b.name}.manifest.json`);
    const repo = join(dir, 'repo');
    const r = await runAirlock([
      'import',
      b.manifestPath,
      '--repo',
      repo,
      '--trust',
      keys.publicKeyPath,
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('SHA256SUMS is damaged');
    expect(r.stderr).not.toContain('modified after bundling');
  });

  it('without a verified signature, refuses and names both files', async () => {
    const b = await signedBundle();
    await damageSumsLine(b, `${b.name}.manifest.json`);
    const err = await caught(() => verifyBundle(b.manifestPath));
    expect(err).toMatchObject({ exitCode: 4, code: 'EMANIFEST' });
    expect(err.message).toContain('the manifest or SHA256SUMS was damaged');
  });

  it('a damaged part is still named as the part, whatever SHA256SUMS says', async () => {
    const b = await signedBundle();
    const part = join(b.dir, b.manifest.parts[0]!.name);
    const bytes = await readFile(part);
    bytes[600] = bytes[600]! ^ 0xff;
    await writeFile(part, bytes);
    const err = await caught(() => verifyBundle(b.manifestPath, { trust: keys.publicKeyPath }));
    expect(err).toMatchObject({ exitCode: 4, code: 'EPART' });
    expect(err.message).toContain(b.manifest.parts[0]!.name);
  });
});
