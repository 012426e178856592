/**
 * `airlock bundle --with-release`: the release travels beside the parts, listed in the signed
 * manifest and SHA256SUMS; the far side checks it with plain tools (the commands the docs
 * give, run here with the real sha256sum, base64, sed and openssl) or with airlock itself.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPrivateKey, signManifest } from '../../src/bundle/signing.js';
import { parseManifest } from '../../src/bundle/manifest.js';
import { runAirlock } from '../helpers/cli.js';
import {
  fixtureConfig,
  withUpstream,
  writeConfig,
  type TestUpstream,
} from '../helpers/upstream.js';

const RELEASE = 'airlock-9.8.7-linux-x64.tar.gz';
let t: TestUpstream;
let root: string;
let ws: string;
let key: string;
let releaseDir: string;

beforeAll(async () => {
  t = await withUpstream();
  root = t.tempDir('carried');
  ws = join(root, 'ws');
  key = join(root, 'site');
  await ok(['keygen', '--out', key]);
  const config = fixtureConfig(t.upstream.url, '2026-11-01', { sources: ['cran'] });
  await ok(['download', '--config', writeConfig(root, config), '--workspace', ws]);
  // A real (small) release-shaped tarball, its .sha256 and its base64 Ed25519 .sig.
  releaseDir = join(root, 'release');
  mkdirSync(join(releaseDir, 'tree/airlock-9.8.7-linux-x64/bin'), { recursive: true });
  writeFileSync(join(releaseDir, 'tree/airlock-9.8.7-linux-x64/bin/airlock'), '#!/bin/sh\n');
  execFileSync('tar', ['-czf', join(releaseDir, RELEASE), '-C', join(releaseDir, 'tree'), '.']);
  execFileSync('sh', ['-c', `sha256sum ${RELEASE} > ${RELEASE}.sha256`], { cwd: releaseDir });
  const tarball = readFileSync(join(releaseDir, RELEASE));
  writeFileSync(
    join(releaseDir, `${RELEASE}.sig`),
    signManifest(tarball, await loadPrivateKey(`${key}.key`)),
  );
});
afterAll(async () => t?.close());

async function ok(args: string[]): Promise<string> {
  const res = await runAirlock(args);
  expect(res.code, `airlock ${args.join(' ')}\n${res.stderr}`).toBe(0);
  return res.stdout;
}

async function bundleWithRelease(name: string): Promise<{ dir: string; manifest: string }> {
  const dir = join(root, name);
  mkdirSync(dir);
  await ok([
    'bundle',
    '--workspace',
    ws,
    '--out',
    dir,
    '--full',
    '--sign-key',
    `${key}.key`,
    '--with-release',
    join(releaseDir, RELEASE),
  ]);
  const manifest = readdirSync(dir).find((f) => f.endsWith('.manifest.json'))!;
  return { dir, manifest };
}

function sh(script: string, cwd: string): { code: number; out: string } {
  try {
    return { code: 0, out: execFileSync('sh', ['-c', script], { cwd, stdio: 'pipe' }).toString() };
  } catch (err) {
    const e = err as { status: number; stdout: Buffer; stderr: Buffer };
    return { code: e.status, out: `${e.stdout.toString()}${e.stderr.toString()}` };
  }
}

/** The first-install commands of docs/bundle-format.md, word for word but for the names. */
function firstInstallCheck(manifest: string, pub: string): string {
  return [
    'set -e',
    `base64 -d ${manifest}.sig > manifest.sig.bin`,
    `openssl pkeyutl -verify -pubin -inkey ${pub} -rawin -in ${manifest} -sigfile manifest.sig.bin`,
    `printf '%s  %s\\n' "$(sed -n '/^  "release": {/,/^  }/s/^    "sha256": "\\([0-9a-f]*\\)",$/\\1/p' ${manifest})" ${RELEASE} | sha256sum -c`,
    `base64 -d ${RELEASE}.sig > release.sig.bin`,
    `openssl pkeyutl -verify -pubin -inkey ${pub} -rawin -in ${RELEASE} -sigfile release.sig.bin`,
  ].join('\n');
}

describe('a bundle that carries an airlock release', () => {
  it('lists the release in the signed manifest and SHA256SUMS, and the documented plain-tool checks pass', async () => {
    const { dir, manifest } = await bundleWithRelease('usb');
    expect(readdirSync(dir)).toEqual(
      expect.arrayContaining([RELEASE, `${RELEASE}.sha256`, `${RELEASE}.sig`]),
    );
    const m = parseManifest(readFileSync(join(dir, manifest)), manifest);
    const tarball = readFileSync(join(releaseDir, RELEASE));
    expect(m.release).toMatchObject({
      name: RELEASE,
      version: '9.8.7',
      platform: 'linux-x64',
      size: tarball.length,
    });
    expect(m.release!.extras.map((e) => e.name)).toEqual([`${RELEASE}.sha256`, `${RELEASE}.sig`]);
    const sums = readFileSync(join(dir, 'SHA256SUMS'), 'utf8');
    expect(sums).toContain(`${m.release!.sha256}  ${RELEASE}\n`);
    expect(sh('sha256sum -c SHA256SUMS', dir).code).toBe(0);

    const check = sh(firstInstallCheck(manifest, `${key}.pub`), dir);
    expect(check.out).toContain('Signature Verified Successfully');
    expect(check.out).toContain(`${RELEASE}: OK`);
    expect(check.code, check.out).toBe(0);
  });

  it('verify and import report the release; a tampered release is refused with exit 4, nothing imported', async () => {
    const { dir, manifest } = await bundleWithRelease('usb2');
    const verified = JSON.parse(
      await ok(['verify', join(dir, manifest), '--trust', `${key}.pub`, '--json']),
    ) as { release: { name: string; version: string; sha256: string; signed: boolean } };
    const m = parseManifest(readFileSync(join(dir, manifest)), manifest);
    expect(verified.release).toEqual({
      name: RELEASE,
      version: '9.8.7',
      platform: 'linux-x64',
      sha256: m.release!.sha256,
      signed: true,
    });
    const plain = await ok(['verify', join(dir, manifest), '--trust', `${key}.pub`]);
    expect(plain).toContain(`carried release: ${RELEASE} (airlock 9.8.7, linux-x64)`);

    const repo = join(root, 'repo');
    const imported = await ok([
      'import',
      join(dir, manifest),
      '--repo',
      repo,
      '--trust',
      `${key}.pub`,
    ]);
    expect(imported).toContain(`carried release: ${RELEASE}`);

    // One flipped byte in the tarball: plain tools and airlock both refuse it.
    const bytes = readFileSync(join(dir, RELEASE));
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff;
    writeFileSync(join(dir, RELEASE), bytes);
    expect(sh(firstInstallCheck(manifest, `${key}.pub`), dir).code).not.toBe(0);
    const refused = await runAirlock(['verify', join(dir, manifest), '--trust', `${key}.pub`]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain(`${RELEASE} does not match the manifest`);
    const repo2 = join(root, 'repo2');
    const notImported = await runAirlock([
      'import',
      join(dir, manifest),
      '--repo',
      repo2,
      '--trust',
      `${key}.pub`,
    ]);
    expect(notImported.code).toBe(4);
    // The lock and temp folders an import makes first hold no file: nothing was published.
    expect(execFileSync('find', [repo2, '-type', 'f']).toString()).toBe('');
  });

  it('refuses a missing release and an edited manifest (the signature no longer matches, for openssl too)', async () => {
    const { dir, manifest } = await bundleWithRelease('usb3');
    execFileSync('mv', [join(dir, RELEASE), join(root, 'moved.tar.gz')]);
    const missing = await runAirlock(['verify', join(dir, manifest)]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain(`the carried release file ${RELEASE} is missing`);
    execFileSync('mv', [join(root, 'moved.tar.gz'), join(dir, RELEASE)]);

    const text = readFileSync(join(dir, manifest), 'utf8');
    writeFileSync(join(dir, manifest), text.replace('"version": "9.8.7"', '"version": "9.8.8"'));
    expect(sh(firstInstallCheck(manifest, `${key}.pub`), dir).out).toContain(
      'Signature Verification Failure',
    );
    const edited = await runAirlock(['verify', join(dir, manifest), '--trust', `${key}.pub`]);
    expect(edited.code).toBe(4);
  });

  it('refuses a file not named like a release before writing anything', async () => {
    const dir = join(root, 'usb4');
    mkdirSync(dir);
    const res = await runAirlock([
      'bundle',
      '--workspace',
      ws,
      '--out',
      dir,
      '--full',
      '--with-release',
      join(releaseDir, `${RELEASE}.sha256`),
    ]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('is not named like an airlock release');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('says so when nothing new is to be carried, so the release did not travel', async () => {
    await bundleWithRelease('usb6');
    const dir = join(root, 'usb7');
    mkdirSync(dir);
    const res = await runAirlock([
      'bundle',
      '--workspace',
      ws,
      '--out',
      dir,
      '--with-release',
      join(releaseDir, RELEASE),
    ]);
    expect(res.code).toBe(0);
    expect(res.stdout + res.stderr).toContain('the release was not carried');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('an airlock that predates the release field still reads the manifest (unknown fields are ignored)', async () => {
    const { dir, manifest } = await bundleWithRelease('usb5');
    const value = JSON.parse(readFileSync(join(dir, manifest), 'utf8')) as Record<string, unknown>;
    // What an older reader sees is the same check without the field; a newer optional field too.
    delete value.release;
    value.someLaterField = { anything: true };
    expect(() => parseManifest(Buffer.from(JSON.stringify(value)), manifest)).not.toThrow();
  });
});
