/**
 * The release installs on a bare, disconnected host: a Debian 12 minbase root (no Node.js, no
 * npm, no compiler), `tar -xzf` and a PATH entry. Inside `unshare --net chroot` (no network at
 * all) it verifies and imports a real signed bundle that carries the release itself; then it
 * serves from the chroot on the host's loopback and the host's real pip and R install from it.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAirlock } from '../helpers/cli.js';
import {
  fixtureConfig,
  withUpstream,
  writeConfig,
  type TestUpstream,
} from '../helpers/upstream.js';
import {
  bookwormMinbase,
  finished,
  pipInstallsAlpha,
  RELEASE_NAME,
  run,
  servedUrl,
  sharedRelease,
  startInRoot,
  toolsMissing,
  VERSION,
} from './deploy-harness.js';

const need = toolsMissing([
  { command: 'debootstrap', pkg: 'debootstrap' },
  { command: 'unshare', pkg: 'util-linux' },
  { command: 'Rscript', pkg: 'r-base-core' },
]);
const PATH = `/opt/${RELEASE_NAME}/bin:/usr/sbin:/usr/bin:/sbin:/bin`;

let t: TestUpstream;
let root: string;
let usb: string;
let manifest: string;
const children: ChildProcess[] = [];

describe.skipIf(need.skip !== undefined)('the release on a bare Debian 12 host', () => {
  beforeAll(async () => {
    if (need.failure) throw new Error(`bare-host test cannot run: ${need.failure}`);
    const [cache, upstream] = await Promise.all([bookwormMinbase(), withUpstream()]);
    t = upstream;
    const work = t.tempDir('bare-host');
    const key = join(work, 'site');
    const ok = async (args: string[]) => {
      const res = await runAirlock(args);
      expect(res.code, `airlock ${args.join(' ')}\n${res.stderr}`).toBe(0);
    };
    // Connected side, with the project on the host: the release, a download, a signed bundle
    // carrying the release.
    const [tarball] = await Promise.all([sharedRelease(), ok(['keygen', '--out', key])]);
    const ws = join(work, 'ws');
    const config = writeConfig(work, fixtureConfig(t.upstream.url, '2026-11-01'));
    await ok(['download', '--config', config, '--workspace', ws]);
    const out = join(work, 'usb');
    mkdirSync(out);
    await ok([
      'bundle',
      '--workspace',
      ws,
      '--out',
      out,
      '--full',
      '--sign-key',
      `${key}.key`,
      '--with-release',
      tarball!,
    ]);
    cpSync(`${key}.pub`, join(out, 'site.pub'));

    // The far side: a fresh copy of the cached root, the medium mounted at /media/usb.
    root = mkdtempSync(join(tmpdir(), 'airlock-bare-root-'));
    execFileSync('cp', ['-a', `${cache}/.`, root]);
    usb = join(root, 'media/usb');
    cpSync(out, usb, { recursive: true });
    manifest = `/media/usb/${readdirSync(usb).find((f) => f.endsWith('.manifest.json'))!}`;
  }, 20 * 60_000);

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.all(children.map((c) => (c.exitCode === null ? finished(c) : undefined)));
    if (root) rmSync(root, { recursive: true, force: true });
    await t?.close();
  });

  async function inRoot(args: string[]): Promise<string> {
    const res = await finished(startInRoot(root, PATH, args));
    expect(res.code, `${args.join(' ')}\n${res.stdout}\n${res.stderr}`).toBe(0);
    return res.stdout;
  }

  it('unpacks with tar alone and runs with no Node.js, npm or compiler on the host and no network', async () => {
    // What the host lacks (and the check is real: these do exist on the build host).
    for (const absent of ['node', 'nodejs', 'npm', 'cc', 'gcc', 'make', 'python3'])
      expect(await inRoot(['sh', '-c', `command -v ${absent} || echo none`])).toBe('none\n');
    // The medium checks with coreutils alone, release included.
    const sums = await inRoot(['sh', '-c', 'cd /media/usb && sha256sum -c SHA256SUMS']);
    expect(sums).toContain(`${RELEASE_NAME}.tar.gz: OK`);
    await inRoot(['tar', '-xzf', `/media/usb/${RELEASE_NAME}.tar.gz`, '-C', '/opt']);
    expect(await inRoot(['airlock', '--version'])).toBe(`${VERSION}\n`);
    // The empty network namespace: loopback only, and it is down.
    expect(await inRoot(['sh', '-c', 'grep -c : /proc/net/dev'])).toBe('1\n');
  });

  it('verifies and imports the signed bundle inside unshare --net chroot, reporting the carried release', async () => {
    const verified = JSON.parse(
      await inRoot(['airlock', 'verify', manifest, '--trust', '/media/usb/site.pub', '--json']),
    ) as { ok: boolean; signature: string; release: { name: string; version: string } };
    expect(verified).toMatchObject({
      ok: true,
      signature: 'verified',
      release: { name: `${RELEASE_NAME}.tar.gz`, version: VERSION },
    });
    const imported = await inRoot([
      'airlock',
      'import',
      manifest,
      '--repo',
      '/srv/repo',
      '--trust',
      '/media/usb/site.pub',
    ]);
    expect(imported).toContain(`carried release: ${RELEASE_NAME}.tar.gz`);
    await inRoot(['airlock', 'check', '--repo', '/srv/repo', '--deep']);
  });

  it('serves from the chroot; the host pip and Rscript install through it', async () => {
    const serve = startInRoot(
      root,
      PATH,
      ['airlock', 'serve', '--repo', '/srv/repo', '--host', '127.0.0.1', '--port', '0'],
      { network: true },
    );
    children.push(serve);
    const url = await servedUrl(serve);
    const scratch = mkdtempSync(join(tmpdir(), 'airlock-bare-clients-'));
    try {
      expect(await pipInstallsAlpha(url, join(scratch, 'py'))).toEqual(
        expect.arrayContaining(['alpha', 'beta', 'gamma']),
      );

      const lib = join(scratch, 'rlib');
      await run(
        'Rscript',
        [
          '--vanilla',
          '-e',
          `dir.create("${lib}"); install.packages("airA", repos = "${url}/cran/latest", lib = "${lib}", quiet = TRUE)`,
        ],
        { timeout: 120_000 },
      );
      expect(readdirSync(lib).filter((n) => !n.startsWith('00'))).toContain('airA');
    } finally {
      rmSync(scratch, { recursive: true, force: true });
      serve.kill('SIGTERM');
      const stopped = await finished(serve);
      expect(stopped.stderr).toContain('airlock serve: stopped');
    }
  });
});
