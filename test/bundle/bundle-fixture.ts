/** Temp dirs, a workspace with two snapshots, and helpers shared by the bundle tests. */
import { mkdtemp, readdir, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryBundleWorkspace, randomFile } from '../helpers/memory-bundle-workspace.js';

export interface Fixture {
  root: string;
  out: string;
  ws: MemoryBundleWorkspace;
  cleanup(): Promise<void>;
}

export async function makeFixture(): Promise<Fixture> {
  const root = await mkdtemp(join(tmpdir(), 'airlock-bundle-'));
  const out = join(root, 'out');
  await mkdir(out);
  const ws = new MemoryBundleWorkspace(join(root, 'ws'));
  return { root, out, ws, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** Snapshot cran/2026-11-01: an index file and three packages, one of them 300 KiB. */
export async function addFirstSnapshot(ws: MemoryBundleWorkspace): Promise<void> {
  await ws.addSnapshot({ source: 'cran', snapshot: '2026-11-01' }, [
    {
      path: 'src/contrib/PACKAGES',
      bytes: Buffer.from('Package: a\nVersion: 1.0\n'),
      role: 'index',
    },
    { path: 'src/contrib/a_1.0.tar.gz', bytes: randomFile(20_000), package: 'a', version: '1.0' },
    {
      path: 'src/contrib/b_2.1.tar.gz',
      bytes: randomFile(300 * 1024),
      package: 'b',
      version: '2.1',
    },
    { path: 'src/contrib/c_0.1.tar.gz', bytes: randomFile(777), package: 'c', version: '0.1' },
  ]);
}

export async function listOut(out: string): Promise<string[]> {
  return (await readdir(out)).sort();
}

/** Runs fn and returns what it threw (fails the test if it did not throw). */
export async function caught(
  fn: () => Promise<unknown>,
): Promise<Error & { code?: string; exitCode?: number; hint?: string }> {
  try {
    await fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure, got success');
}
