/**
 * Crash safety: a child process importing from the compiled library is killed with SIGKILL at
 * several points; the same import run again must leave a repository that check --deep accepts
 * and that equals an uninterrupted import of the same bundles. Needs dist/ (npm test builds it).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRepo } from '../../src/repo/check.js';
import { importBundle } from '../../src/repo/import.js';
import { openStorage } from '../../src/repo/open-storage.js';
import { makeBundleChain, type BundleChain } from './bundle-fixture.js';
import { expectValidAfterKill, publishedKeys, repoContents } from './repo-contents.js';

const here = dirname(fileURLToPath(import.meta.url));
const CHILD = join(here, 'child-import.mjs');
const DIST = join(here, '../../dist/repo/import.js');

let dir: string;
let chain: BundleChain;
let reference: Record<string, string>;

beforeAll(async () => {
  if (!existsSync(DIST))
    throw new Error(`${DIST} is missing: run \`npx tsc -p tsconfig.json\` first`);
  dir = await mkdtemp(join(tmpdir(), 'airlock-crash-'));
  // A 2 MB blob so a kill after 1 MB lands in the middle of its write.
  chain = await makeBundleChain(dir, { bigFile: 2_000_000, maxPartSize: 700_000 });
  const storage = await openStorage(join(dir, 'reference'), { create: true });
  await importBundle({ manifestPath: chain.full.manifestPath, storage });
  await importBundle({ manifestPath: chain.delta.manifestPath, storage });
  reference = await repoContents(storage);
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function runChild(
  repo: string,
  manifest: string,
  kill?: string,
): Promise<{ code: number | null; signal: string | null; stderr: string; pid: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, repo, manifest], {
      env: { ...process.env, ...(kill ? { AIRLOCK_TEST_KILL: kill } : {}) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stderr, pid: child.pid! }));
  });
}

describe('an import killed with SIGKILL, then run again', { timeout: 30_000 }, () => {
  it.each([
    ['early, right after taking the lock', 'early', 'full'],
    ['mid-blob, in the middle of a 2 MB write', 'blob-bytes:1000000', 'full'],
    ['between the blobs and the snapshot documents', 'before-documents', 'full'],
    ['after publishing, before the bundle record', 'before-record', 'full'],
    ['mid-blob during the delta', 'blob-bytes:1', 'delta'],
  ])(
    'killed %s: the re-run finishes a repository equal to an uninterrupted import',
    async (_name, kill, which) => {
      const repo = join(dir, `repo-${kill.replace(/\W/g, '-')}`);
      if (which === 'delta') {
        const first = await runChild(repo, chain.full.manifestPath);
        expect(first).toMatchObject({ code: 0, signal: null });
      }
      const target = which === 'delta' ? chain.delta : chain.full;
      const killed = await runChild(repo, target.manifestPath, kill);
      expect(killed.signal).toBe('SIGKILL');
      if (kill.startsWith('blob-bytes:')) {
        // The kill landed mid-write: a partial temp file, and nothing at any blob key for it.
        expect(await readdir(join(repo, 'tmp'))).not.toEqual([]);
      }

      const storage = await openStorage(repo);
      await expectValidAfterKill(storage, target.id, kill === 'before-record');

      if (which === 'full') {
        const again = await runChild(repo, chain.full.manifestPath);
        expect(again).toMatchObject({ code: 0, signal: null });
      }
      const delta = await runChild(repo, chain.delta.manifestPath);
      expect(delta).toMatchObject({ code: 0, signal: null });

      expect(await checkRepo(storage, { deep: true })).toMatchObject({ ok: true, problems: [] });
      expect(await repoContents(storage)).toEqual(reference);
      // The re-run cleaned up what the killed import left: its scratch dir and its temp file.
      const scratch = (await readdir(tmpdir())).filter((n) =>
        n.startsWith(`airlock-import-${killed.pid}-`),
      );
      expect(scratch).toEqual([]);
      expect(existsSync(join(repo, 'tmp')) ? await readdir(join(repo, 'tmp')) : []).toEqual([]);
    },
  );

  it('a killed first import leaves nothing published at all', async () => {
    const repo = join(dir, 'repo-first');
    const killed = await runChild(repo, chain.full.manifestPath, 'blob-bytes:1000000');
    expect(killed.signal).toBe('SIGKILL');
    expect(await publishedKeys(await openStorage(repo))).toEqual([]);
    // No re-run follows here to sweep the killed import's scratch dir: remove it.
    for (const name of await readdir(tmpdir())) {
      if (name.startsWith(`airlock-import-${killed.pid}-`))
        await rm(join(tmpdir(), name), { recursive: true });
    }
  });
});
