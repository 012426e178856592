/**
 * `import` before it writes (issue 19, frictions): it checks free space as `bundle` does, and
 * with --wait it says which lock it waits for and who holds it.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, runAirlock, startAirlock } from '../helpers/cli.js';
import { canMount, mountTmpfs, unmount } from '../helpers/tmpfs.js';
import {
  fixtureConfig,
  withUpstream,
  writeConfig,
  type TestUpstream,
} from '../helpers/upstream.js';

let t: TestUpstream;
let root: string;
let manifest: string;
const mounts: string[] = [];

beforeAll(async () => {
  t = await withUpstream();
  root = t.tempDir('import-wait');
  const ws = join(root, 'ws');
  const usb = join(root, 'usb');
  const config = writeConfig(
    root,
    fixtureConfig(t.upstream.url, '2026-11-01', { sources: ['cran'] }),
  );
  for (const args of [
    ['download', '--config', config, '--workspace', ws],
    ['bundle', '--workspace', ws, '--out', usb],
  ]) {
    expect((await runAirlock(args)).code).toBe(0);
  }
  manifest = join(
    usb,
    readdirSync(usb).find((f) => f.endsWith('.manifest.json'))!,
  );
}, 120_000);
afterAll(async () => {
  for (const m of mounts) unmount(m);
  await t?.close();
});

describe.skipIf(!canMount)('import and free space', () => {
  it('refuses with exit 5 before writing when the repository disk is too small', async () => {
    const disk = join(root, 'small');
    mkdirSync(disk);
    if (!mountTmpfs(disk, 'size=256k')) throw new Error('cannot mount a tmpfs');
    mounts.push(disk);
    const repo = join(disk, 'repo');
    const res = await runAirlock(['import', manifest, '--repo', repo]);
    expect(res.code, res.stderr).toBe(5);
    expect(res.stderr).toMatch(/has .* free; importing bundle .* needs/);
    expect(res.stderr).not.toContain('internal error');
    // Nothing written: no blob, and not even the repository's config.
    expect(existsSync(join(repo, 'blobs'))).toBe(false);
    expect(existsSync(join(repo, 'airlock-repository.json'))).toBe(false);
  });
});

describe('import --wait', () => {
  it('says on stderr which lock it waits for and who holds it, then imports once it is free', async () => {
    const repo = join(root, 'repo');
    mkdirSync(join(repo, 'locks'), { recursive: true });
    const lock = join(repo, 'locks', 'import.lock');
    const holder = {
      owner: 'someone-else',
      host: hostname(),
      pid: process.pid, // alive: the lock is not stale
      createdAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 600_000).toISOString(),
    };
    writeFileSync(lock, `${JSON.stringify(holder)}\n`);
    const child = startAirlock(['import', manifest, '--repo', repo, '--wait']);
    const result = collect(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no waiting line in:\n${stderr}`)), 20_000);
      child.stderr!.on('data', () => {
        if (stderr.includes('waiting for')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    expect(stderr).toContain(`waiting for the import lock ${repo}/locks/import.lock`);
    expect(stderr).toContain(`pid ${process.pid} on ${hostname()}`);
    rmSync(lock);
    const res = await result;
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/imported .* into/);
    // Said once, not at every poll.
    expect(res.stderr.split('waiting for').length - 1).toBe(1);
  });
});
