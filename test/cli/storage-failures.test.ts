/**
 * Storage the disk refuses is a storage failure, exit 5, with what to fix (issue 19, bugs 3
 * and 10): a full disk under state.db is no "internal error", and a read-only file system is
 * not reported as a missing path. Real file systems: a small tmpfs filled to the last block,
 * a read-only tmpfs.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAirlock, type CliResult } from '../helpers/cli.js';
import { canMount, mountTmpfs, unmount } from '../helpers/tmpfs.js';
import {
  fixtureConfig,
  withUpstream,
  writeConfig,
  type TestUpstream,
} from '../helpers/upstream.js';

let t: TestUpstream;
let root: string;
let configFile: string;
let manifest: string;
const mounts: string[] = [];

function mount(target: string, options: string): void {
  mkdirSync(target, { recursive: true });
  if (!mountTmpfs(target, options)) throw new Error(`cannot mount a tmpfs on ${target}`);
  mounts.push(target);
}

/** Fills the file system holding `dir` to its last block. */
function fill(dir: string): void {
  spawnSync('dd', ['if=/dev/zero', `of=${join(dir, 'filler')}`, 'bs=4k'], { stdio: 'ignore' });
  spawnSync('sync');
}

function expectStorage(res: CliResult, ...parts: string[]): void {
  expect(res.code, res.stderr).toBe(5);
  expect(res.stderr).not.toContain('internal error');
  for (const part of parts) expect(res.stderr).toContain(part);
}

beforeAll(async () => {
  t = await withUpstream();
  root = t.tempDir('storage');
  configFile = writeConfig(
    root,
    fixtureConfig(t.upstream.url, '2026-11-01', { sources: ['cran'] }),
    'cran.yaml',
  );
  const ws = join(root, 'ws');
  const usb = join(root, 'usb');
  expect((await runAirlock(['download', '--config', configFile, '--workspace', ws])).code).toBe(0);
  expect((await runAirlock(['bundle', '--workspace', ws, '--out', usb])).code).toBe(0);
  manifest = join(
    usb,
    readdirSync(usb).find((f) => f.endsWith('.manifest.json'))!,
  );
}, 120_000);
afterAll(async () => {
  for (const m of mounts.reverse()) unmount(m);
  await t?.close();
});

describe.skipIf(!canMount)('a full disk under the workspace', () => {
  it('fails bundle and download with exit 5 and the disk-full hint when not one block is free', async () => {
    const disk = join(root, 'full');
    mount(disk, 'size=16m');
    const ws = join(disk, 'ws');
    execFileSync('cp', ['-a', join(root, 'ws'), ws]);
    fill(disk);
    const bundled = await runAirlock([
      'bundle',
      '--workspace',
      ws,
      '--out',
      join(root, 'usb2'),
      '--full',
    ]);
    expectStorage(bundled, ws, 'disk is full');
    const downloaded = await runAirlock(['download', '--config', configFile, '--workspace', ws]);
    expectStorage(downloaded, ws, 'disk is full');
  });

  it('fails with exit 5 naming state.db when the lock fits but state.db cannot grow', async () => {
    const disk = join(root, 'almost-full');
    mount(disk, 'size=16m');
    const ws = join(disk, 'ws');
    execFileSync('cp', ['-a', join(root, 'ws'), ws]);
    const reserve = join(disk, 'reserve');
    // Space kept free before the run: one block fits the lock but not SQLite's shared-memory
    // file (an I/O error at open); ten fit both, and a write to state.db finds the disk full
    // (SQLITE_FULL in startRun or recordBundle, as the issue saw it).
    writeFileSync(reserve, Buffer.alloc(40960));
    fill(disk);
    const messages: string[] = [];
    for (const blocks of [1, 10]) {
      for (const args of [
        ['bundle', '--workspace', ws, '--out', join(root, `usb-${blocks}`), '--full'],
        ['download', '--config', configFile, '--workspace', ws],
      ]) {
        rmSync(reserve);
        writeFileSync(reserve, Buffer.alloc(40960 - blocks * 4096));
        const res = await runAirlock(args);
        expectStorage(res, join(ws, 'state.db'));
        expect(res.stderr).toMatch(/hint: .*(disk is full|free space)/);
        messages.push(res.stderr);
      }
    }
    expect(messages.join('')).toContain('database or disk is full');
  });
});

describe.skipIf(!canMount)('a read-only file system', () => {
  it('is reported as read-only for download --workspace and import --repo, not as a missing path', async () => {
    const disk = join(root, 'ro');
    mount(disk, 'ro,size=1m');
    for (const res of [
      await runAirlock(['download', '--config', configFile, '--workspace', join(disk, 'ws')]),
      await runAirlock(['import', manifest, '--repo', join(disk, 'repo')]),
      await runAirlock([
        'bundle',
        '--workspace',
        join(root, 'ws'),
        '--out',
        join(disk, 'usb'),
        '--full',
      ]),
    ]) {
      expectStorage(res, disk, 'read-only');
      expect(res.stderr).not.toContain('check the spelling');
    }
  });
});
