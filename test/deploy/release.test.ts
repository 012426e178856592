/**
 * `npm run release`: the tarball carries the runtime, the compiled code, production
 * dependencies only (the native addon built, its sources and build tree left out), a launcher
 * and the licence texts; it is reproducible; its .sha256 and .sig check with coreutils and
 * openssl as the README says.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAirlock } from '../helpers/cli.js';
import { buildRelease, RELEASE_NAME, REPO_ROOT, run, sharedRelease } from './deploy-harness.js';

let dir: string;
let tarball: string;
let listing: string[];
let key: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'airlock-release-test-'));
  key = join(dir, 'release');
  const res = await runAirlock(['keygen', '--out', key]);
  expect(res.code, res.stderr).toBe(0);
  tarball = await buildRelease(join(dir, 'a'), `${key}.key`);
  listing = execFileSync('tar', ['-tzf', tarball], { maxBuffer: 64 << 20 })
    .toString()
    .trim()
    .split('\n');
  mkdirSync(join(dir, 'unpacked'));
  execFileSync('tar', ['-xzf', tarball, '-C', join(dir, 'unpacked')]);
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PREFIX = `${RELEASE_NAME}/`;
const has = (path: string) => listing.includes(`${PREFIX}${path}`);

describe('the release tarball', () => {
  it('holds the runtime, the launcher, dist/ and the production dependencies with the built addon', () => {
    for (const path of [
      'bin/airlock',
      'bin/airlock.js',
      'node/bin/node',
      'node/LICENSE',
      'LICENSE',
      'dist/cli/main.js',
      'package.json',
      'VERSION',
      'README.txt',
      'THIRD-PARTY-LICENSES.txt',
      'node_modules/better-sqlite3/build/Release/better_sqlite3.node',
      'node_modules/yargs/package.json',
      'node_modules/@aws-sdk/client-s3/package.json',
    ])
      expect(has(path), path).toBe(true);
    expect(listing.every((p) => p.startsWith(PREFIX))).toBe(true);
  });

  it('leaves out dev dependencies, the addon sources and build tree, source maps and type declarations', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    for (const dev of Object.keys(pkg.devDependencies))
      expect(has(`node_modules/${dev}/`), dev).toBe(false);
    const sqlite = listing.filter((p) => p.startsWith(`${PREFIX}node_modules/better-sqlite3/`));
    expect(
      sqlite.filter((p) => /\/(deps|src)\/|\/obj|\.a$|test_extension|binding\.gyp/.test(p)),
    ).toEqual([]);
    expect(listing.filter((p) => /\.(map|d\.ts)$/.test(p))).toEqual([]);
  });

  it('names the licence of every package it carries', () => {
    const unpacked = join(dir, 'unpacked');
    const text = readFileSync(join(unpacked, PREFIX, 'THIRD-PARTY-LICENSES.txt'), 'utf8');
    expect(text).toContain(`Node.js ${process.version}`);
    const packages = listing
      .filter((p) => /node_modules\/(@[^/]+\/)?[^/]+\/package\.json$/.test(p))
      .map(
        (p) =>
          JSON.parse(readFileSync(join(unpacked, p), 'utf8')) as Partial<
            Record<'name' | 'version', string>
          >,
      )
      .filter((m) => m.name && m.version);
    expect(packages.length).toBeGreaterThan(20);
    for (const m of packages) expect(text, m.name).toContain(`${m.name} ${m.version} (`);
  });

  it('is reproducible: owner 0, one mtime, the same bytes from the same tree', async () => {
    const verbose = execFileSync('tar', ['--numeric-owner', '-tvzf', tarball], {
      maxBuffer: 64 << 20,
    })
      .toString()
      .trim()
      .split('\n');
    expect(verbose.every((l) => / 0\/0 /.test(l))).toBe(true);
    const stamps = new Set(
      verbose.filter((l) => !l.startsWith('d')).map((l) => l.split(/\s+/).slice(3, 5).join(' ')),
    );
    expect(stamps.size).toBe(1);
    // Another build of the same tree, in another directory at another time (shared with the
    // other deployment tests).
    const again = await sharedRelease();
    expect(readFileSync(again).equals(readFileSync(tarball))).toBe(true);
  });

  it('its .sha256 checks with sha256sum and its .sig with openssl, as documented', async () => {
    const out = join(dir, 'a');
    execFileSync('sha256sum', ['-c', `${RELEASE_NAME}.tar.gz.sha256`], { cwd: out });
    mkdirSync(join(dir, 'check'), { recursive: true });
    const { stdout } = await run(
      'sh',
      [
        '-c',
        `base64 -d ${RELEASE_NAME}.tar.gz.sig > ${dir}/check/release.sig && ` +
          `openssl pkeyutl -verify -pubin -inkey ${key}.pub -rawin -in ${RELEASE_NAME}.tar.gz -sigfile ${dir}/check/release.sig`,
      ],
      { cwd: out },
    );
    expect(stdout).toContain('Signature Verified Successfully');
  });
});
