/**
 * Crash safety of `prune --repo`: a child process pruning through the compiled library is
 * killed with SIGKILL at several points, on both backends; the same prune run again must leave
 * the repository an uninterrupted prune leaves, and `check --deep` must accept it at every
 * step. Needs dist/ (npm test builds it).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRepo } from '../../src/repo/check.js';
import { openStorage } from '../../src/repo/open-storage.js';
import { readPruneRecord } from '../../src/repo/prune-record.js';
import type { Storage } from '../../src/repo/storage.js';
import { buildHistory } from './prune-repo-fixture.js';
import { repoContents } from './repo-contents.js';
import { startS3, type S3Fixture } from './s3rver-fixture.js';

const here = dirname(fileURLToPath(import.meta.url));
const CHILD = join(here, 'child-prune.mjs');
const DIST = join(here, '../../dist/repo/prune.js');
const SELECTORS = JSON.stringify({ keep: 1 });

let s3: S3Fixture;
let dir: string;
let repos = 0;

beforeAll(async () => {
  if (!existsSync(DIST))
    throw new Error(`${DIST} is missing: run \`npx tsc -p tsconfig.json\` first`);
  s3 = await startS3();
  dir = await mkdtemp(join(tmpdir(), 'airlock-prune-crash-'));
}, 60_000);
afterAll(async () => {
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

interface Backend {
  /** The --repo location and a Storage on it. */
  make(): Promise<{ location: string; storage: Storage }>;
  env: () => Record<string, string>;
}

const backends: [string, Backend][] = [
  [
    'directory',
    {
      async make() {
        const location = join(dir, `repo${repos++}`);
        return { location, storage: await openStorage(location, { create: true }) };
      },
      env: () => ({}),
    },
  ],
  [
    's3',
    {
      async make() {
        const prefix = `repo${repos++}`;
        return { location: `s3://packages/${prefix}`, storage: await s3.open(prefix) };
      },
      env: () => ({ AIRLOCK_TEST_S3_ENDPOINT: s3.endpoint }),
    },
  ],
];

function runChild(
  location: string,
  env: Record<string, string>,
  kill?: string,
): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, location, SELECTORS, '0'], {
      env: { ...process.env, ...env, ...(kill ? { AIRLOCK_TEST_KILL: kill } : {}) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

/** The repository without prune.json, whose times differ between two runs. */
async function contents(storage: Storage): Promise<Record<string, string>> {
  const all = await repoContents(storage);
  delete all['prune.json'];
  return all;
}

describe.each(backends)(
  'a prune on %s storage killed with SIGKILL, then run again',
  (_name, backend) => {
    let reference: Record<string, string>;

    beforeAll(async () => {
      const { location, storage } = await backend.make();
      await buildHistory(storage);
      expect(await runChild(location, backend.env())).toMatchObject({ code: 0, signal: null });
      reference = await contents(storage);
      await storage.close();
    }, 60_000);

    it.each([
      ['after prune.json, before published.json', 'after-record'],
      ['after published.json, before any deletion', 'after-publish'],
      ['after the first deletion', 'mid-delete:1'],
      ['after three deletions', 'mid-delete:3'],
      ['after the deletions, before prune.json is rewritten', 'before-final-record'],
    ])(
      'killed %s: the repository stays valid and the re-run finishes the job',
      { timeout: 60_000 },
      async (_point, kill) => {
        const { location, storage } = await backend.make();
        await buildHistory(storage);
        const killed = await runChild(location, backend.env(), kill);
        expect(killed.signal, killed.stderr).toBe('SIGKILL');
        // Whatever was interrupted, readers find every file of every published snapshot.
        expect(await checkRepo(storage, { deep: true })).toMatchObject({ ok: true });

        const again = await runChild(location, backend.env());
        expect(again, again.stderr).toMatchObject({ code: 0, signal: null });
        expect(await checkRepo(storage, { deep: true })).toMatchObject({ ok: true, problems: [] });
        expect(await contents(storage)).toEqual(reference);
        const record = (await readPruneRecord(storage))!;
        expect(record.pending).toEqual({});
        expect(record.pruned.map((p) => `${p.source}/${p.snapshot}`).sort()).toEqual([
          'cran/2026-11-01',
          'cran/2026-11-02',
        ]);
        await storage.close();
      },
    );
  },
);
