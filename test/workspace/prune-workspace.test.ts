/**
 * `airlock prune --workspace` in the nightly flow, with the real commands against the fixture
 * upstream: download A, bundle; download B, bundle a delta; prune A on both sides; download A
 * again; bundle a delta. The far side imports all three in order and proves every file of
 * every snapshot is there (`check --deep`). Also: a prune killed after state.db committed is
 * finished by the next one.
 */
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../src/repo/open-storage.js';
import { startServer } from '../../src/serve/server.js';
import { Workspace } from '../../src/workspace/workspace.js';
import { runAirlock } from '../helpers/cli.js';
import {
  fixtureConfig,
  withUpstream,
  writeConfig,
  type TestUpstream,
} from '../helpers/upstream.js';

const here = dirname(fileURLToPath(import.meta.url));
const CHILD = join(here, 'child-prune-workspace.mjs');
const run = promisify(execFile);
/** The host's pip settings must not point pip at other files. */
const PIP_ENV = {
  PIP_NO_CACHE_DIR: '1',
  PIP_DISABLE_PIP_VERSION_CHECK: '1',
  PIP_CONFIG_FILE: '/dev/null',
  PIP_NO_INPUT: '1',
};

let t: TestUpstream;
let root: string;
/** A workspace holding A (2026-11-01) and B (2026-11-15), each carried by a bundle. */
let ws: string;
let usb: string[];

async function ok(args: string[]): Promise<string> {
  const res = await runAirlock(args);
  expect(res.code, `airlock ${args.join(' ')}\n${res.stderr}`).toBe(0);
  return res.stdout;
}

async function json<T>(args: string[]): Promise<T> {
  return JSON.parse(await ok([...args, '--json'])) as T;
}

function manifestIn(dir: string): string {
  return join(
    dir,
    readdirSync(dir).find((f) => f.endsWith('.manifest.json'))!,
  );
}

async function download(snapshot: string, into: string): Promise<void> {
  const config = fixtureConfig(t.upstream.url, snapshot, { sources: ['cran', 'pypi'] });
  await ok([
    'download',
    '--config',
    writeConfig(root, config, `${snapshot}.yaml`),
    '--workspace',
    into,
  ]);
}

async function bundle(
  into: string,
  n: number,
): Promise<{ id: string; parent: string | null; blobCount: number }> {
  const out = join(root, `usb${n}`);
  mkdirSync(out, { recursive: true });
  usb[n] = out;
  return json(['bundle', '--workspace', into, '--out', out]);
}

/** sha256 → referenced by a snapshot, for the workspace's blob files and rows. */
function blobState(dir: string): { files: Set<string>; referenced: Set<string>; pending: number } {
  const w = Workspace.open(dir);
  try {
    const referenced = new Set(
      w.database.prepare('SELECT DISTINCT sha256 FROM entries').pluck().all() as string[],
    );
    const pending = w.database
      .prepare('SELECT count(*) FROM blob_deletions')
      .pluck()
      .get() as number;
    const files = new Set<string>();
    for (const sub of readdirSync(join(dir, 'blobs'))) {
      for (const name of readdirSync(join(dir, 'blobs', sub))) files.add(name);
    }
    return { files, referenced, pending };
  } finally {
    w.close();
  }
}

beforeAll(async () => {
  t = await withUpstream();
  root = t.tempDir('prune-ws');
  ws = join(root, 'ws');
  usb = [];
  await download('2026-11-01', ws);
  await bundle(ws, 1);
  await download('2026-11-15', ws);
  await bundle(ws, 2);
}, 120_000);
afterAll(async () => t?.close());

describe('prune --workspace', { timeout: 240_000 }, () => {
  it('keeps the next deltas whole: A, B, prune A on both sides, A again, and the far side has every file', async () => {
    const repo = join(root, 'repo');
    await ok(['import', manifestIn(usb[1]!), '--repo', repo]);
    await ok(['import', manifestIn(usb[2]!), '--repo', repo]);
    const before = blobState(ws);

    type Summary = {
      snapshots: { source: string; snapshot: string }[];
      deleted: { blobs: number; bytes: number };
    };
    const dry = await json<Summary>(['prune', '--workspace', ws, '--keep', '1', '--dry-run']);
    expect(blobState(ws).files).toEqual(before.files);
    const real = await json<Summary>(['prune', '--workspace', ws, '--keep', '1']);
    expect(real.snapshots.map((s) => `${s.source}/${s.snapshot}`)).toEqual([
      'cran/2026-11-01',
      'pypi/2026-11-01',
    ]);
    expect({ ...dry, dryRun: false }).toEqual(real);
    expect(real.deleted.blobs).toBeGreaterThan(0);

    // Exactly the files only A used are gone; B's are all there, and nothing is left to do.
    const after = blobState(ws);
    expect(after.pending).toBe(0);
    for (const sha of after.referenced) expect(after.files.has(sha), sha).toBe(true);
    expect(before.files.size - after.files.size).toBe(real.deleted.blobs);
    for (const sha of before.files) {
      if (!after.files.has(sha)) expect(after.referenced.has(sha)).toBe(false);
    }

    // The far side prunes A too, with no grace period: A's own files are gone there.
    const repoPrune = await json<{ deleted: { blobs: number } }>([
      'prune',
      '--repo',
      repo,
      '--keep',
      '1',
      '--grace',
      '0',
    ]);
    expect(repoPrune.deleted.blobs).toBeGreaterThan(0);
    await ok(['check', '--repo', repo, '--deep']);

    // A comes back (a later snapshot needing files that only A had): they are fetched again,
    // and the next delta carries them, because the workspace forgot that a bundle did.
    await download('2026-11-01', ws);
    const third = await bundle(ws, 3);
    expect(third.parent).not.toBeNull();
    expect(third.blobCount).toBeGreaterThanOrEqual(real.deleted.blobs);
    await ok(['import', manifestIn(usb[3]!), '--repo', repo]);
    const check = await json<{ ok: boolean; snapshots: number }>([
      'check',
      '--repo',
      repo,
      '--deep',
    ]);
    expect(check).toMatchObject({ ok: true, snapshots: 4 });

    // And pip installs from both dated snapshots through a server over that repository.
    const storage = await openStorage(repo);
    const server = await startServer({ storage, port: 0 });
    try {
      for (const snapshot of ['2026-11-01', '2026-11-15']) {
        const dest = join(root, `pip-${snapshot}`);
        await run(
          'python3',
          ['-m', 'pip', 'download', '--index-url', `${server.url}/pypi/${snapshot}/simple`].concat([
            '-d',
            dest,
            '--only-binary',
            ':all:',
            'alpha',
          ]),
          { env: { ...process.env, ...PIP_ENV }, timeout: 90_000 },
        );
        expect(readdirSync(dest).some((f) => f.startsWith('alpha-'))).toBe(true);
      }
    } finally {
      await server.close();
      await storage.close();
    }
  });

  it.each([
    ['right after state.db committed', 'file:1'],
    ['after some files were removed', 'file:4'],
  ])('killed %s, the next prune finishes removing the files', async (_when, kill) => {
    const copy = join(root, `ws-${kill.replace(/\W/g, '-')}`);
    cpSync(ws, copy, { recursive: true });
    const selectors = JSON.stringify({ keep: 1 });
    const killed = await new Promise<{ signal: string | null }>((resolve, reject) => {
      const child = spawn(process.execPath, [CHILD, copy, selectors], {
        env: { ...process.env, AIRLOCK_TEST_KILL: kill },
        stdio: 'ignore',
      });
      child.on('error', reject);
      child.on('exit', (_code, signal) => resolve({ signal }));
    });
    expect(killed.signal).toBe('SIGKILL');
    const mid = blobState(copy);
    expect(mid.pending).toBeGreaterThan(0);
    // state.db already forgot the snapshot: the files waiting for removal are unreferenced.
    const status = await json<{ snapshots: { source: string; snapshot: string }[] }>([
      'status',
      '--workspace',
      copy,
    ]);
    expect(status.snapshots.map((s) => s.snapshot)).toEqual(['2026-11-15', '2026-11-15']);

    // The same command again (the lock of the dead process is taken over).
    const again = await json<{ snapshots: unknown[]; alreadyPruned: string[] }>([
      'prune',
      '--workspace',
      copy,
      '--keep',
      '1',
    ]);
    expect(again.snapshots).toEqual([]);
    // Naming a snapshot an earlier prune removed is no error: that job is done.
    const named = await json<{ alreadyPruned: string[] }>([
      'prune',
      '--workspace',
      copy,
      '--snapshot',
      'cran/2026-11-01',
    ]);
    expect(named.alreadyPruned).toEqual(['cran/2026-11-01']);
    const done = blobState(copy);
    expect(done.pending).toBe(0);
    for (const sha of done.referenced) expect(done.files.has(sha)).toBe(true);
    for (const sha of done.files) expect(done.referenced.has(sha), sha).toBe(true);
    // And the workspace still bundles.
    const out = join(root, `usb-${kill.replace(/\W/g, '-')}`);
    mkdirSync(out, { recursive: true });
    await ok(['bundle', '--workspace', copy, '--out', out, '--full']);
    expect(existsSync(manifestIn(out))).toBe(true);
  });

  it('refuses a directory that is not a workspace, and --grace, with exit 2', async () => {
    const empty = t.tempDir('not-ws');
    const res = await runAirlock(['prune', '--workspace', join(empty, 'typo'), '--keep', '1']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('is not an airlock workspace');
    expect(existsSync(join(empty, 'typo'))).toBe(false);
    const grace = await runAirlock(['prune', '--workspace', ws, '--keep', '1', '--grace', '1h']);
    expect(grace.code).toBe(2);
    const none = await runAirlock(['prune', '--workspace', ws]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--keep N');
    const zero = await runAirlock(['prune', '--workspace', ws, '--keep', '0']);
    expect(zero.code).toBe(2);
  });
});
