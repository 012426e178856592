/**
 * Crash safety on S3: a child process importing from the compiled library into a real
 * S3-compatible server is killed with SIGKILL at several points, including in the middle of
 * a multipart upload; the same import run again leaves a repository that check --deep
 * accepts and that equals an uninterrupted import. On moto, which lists multipart uploads,
 * the killed import's unfinished upload is there after the kill and gone after the re-run.
 * Needs dist/ (npm test builds it).
 */
import { ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRepo } from '../../src/repo/check.js';
import { importBundle } from '../../src/repo/import.js';
import { makeBundleChain, type BundleChain } from './bundle-fixture.js';
import { MOTO_CREDENTIALS, MOTO_MISSING, startMoto, whereMotoRuns } from './moto-fixture.js';
import { expectValidAfterKill, repoContents } from './repo-contents.js';
import { S3_CREDENTIALS, startS3, type S3Fixture } from './s3rver-fixture.js';

const here = dirname(fileURLToPath(import.meta.url));
const CHILD = join(here, 'child-import.mjs');
const DIST = join(here, '../../dist/repo/import.js');

let dir: string;
let chain: BundleChain;
let s3: S3Fixture;
let moto: S3Fixture | undefined;
let reference: Record<string, string>;

beforeAll(async () => {
  if (!existsSync(DIST))
    throw new Error(`${DIST} is missing: run \`npx tsc -p tsconfig.json\` first`);
  dir = await mkdtemp(join(tmpdir(), 'airlock-crash-s3-'));
  // A 12 MiB blob: a multipart upload of two 8 MiB parts, so a kill after 11 MB lands after
  // the first part went up and before the upload completes.
  [chain, s3, moto] = await Promise.all([
    makeBundleChain(dir, { bigFile: 12 * 1024 * 1024, maxPartSize: 4_000_000 }),
    startS3(),
    MOTO_MISSING ? undefined : startMoto(),
  ]);
  const storage = await s3.open('reference');
  await importBundle({ manifestPath: chain.full.manifestPath, storage });
  await importBundle({ manifestPath: chain.delta.manifestPath, storage });
  reference = await repoContents(storage);
  await storage.close();
}, 120_000);
afterAll(async () => {
  await Promise.all([s3?.close(), moto?.close()]);
  await rm(dir, { recursive: true, force: true });
}, 60_000);

function runChild(
  store: S3Fixture,
  prefix: string,
  manifest: string,
  kill?: string,
): Promise<{ code: number | null; signal: string | null; stderr: string; pid: number }> {
  const credentials = store === moto ? MOTO_CREDENTIALS : S3_CREDENTIALS;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, `s3://packages/${prefix}`, manifest], {
      env: {
        ...process.env,
        AWS_ENDPOINT_URL: store.endpoint,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_REGION: 'us-east-1',
        ...(kill ? { AIRLOCK_TEST_KILL: kill, AIRLOCK_TEST_KILL_DELAY_MS: '1500' } : {}),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stderr, pid: child.pid! }));
  });
}

async function pendingUploads(store: S3Fixture, prefix: string): Promise<string[]> {
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: store.endpoint,
    forcePathStyle: true,
    credentials: MOTO_CREDENTIALS,
  });
  try {
    const out = await client.send(
      new ListMultipartUploadsCommand({ Bucket: 'packages', Prefix: `${prefix}/` }),
    );
    return (out.Uploads ?? []).map((u) => u.Key!);
  } finally {
    client.destroy();
  }
}

async function sweepScratch(pid: number): Promise<void> {
  for (const name of await readdir(tmpdir())) {
    if (name.startsWith(`airlock-import-${pid}-`))
      await rm(join(tmpdir(), name), { recursive: true });
  }
}

describe('an S3 import killed with SIGKILL, then run again', { timeout: 120_000 }, () => {
  it.each(
    whereMotoRuns(
      [
        ['s3rver', 'early, right after taking the lock', 'early', 'full'],
        ['moto', 'early, right after taking the lock (by a conditional write)', 'early', 'full'],
        ['s3rver', 'mid-multipart, after the first 8 MiB part', 'blob-bytes:11000000', 'full'],
        ['moto', 'mid-multipart, after the first 8 MiB part', 'blob-bytes:11000000', 'full'],
        ['s3rver', 'between the blobs and the snapshot documents', 'before-documents', 'full'],
        ['s3rver', 'after publishing, before the bundle record', 'before-record', 'full'],
        ['s3rver', 'mid-blob during the delta', 'blob-bytes:1', 'delta'],
      ],
      ([store]) => store === 'moto',
    ),
  )(
    '%s, killed %s: the re-run finishes a repository equal to an uninterrupted import',
    async (storeName, _name, kill, which) => {
      const store = storeName === 'moto' ? moto! : s3;
      const prefix = `${storeName}-${kill.replace(/\W/g, '-')}`;
      if (which === 'delta') {
        const first = await runChild(store, prefix, chain.full.manifestPath);
        expect(first).toMatchObject({ code: 0, signal: null });
      }
      const target = which === 'delta' ? chain.delta : chain.full;
      const killed = await runChild(store, prefix, target.manifestPath, kill);
      expect(killed.signal).toBe('SIGKILL');
      if (store === moto && kill.startsWith('blob-bytes:')) {
        expect(await pendingUploads(store, prefix)).not.toEqual([]);
      }

      const storage = await store.open(prefix);
      await expectValidAfterKill(storage, target.id, kill === 'before-record');
      // Another host's view of the killed process's lock: it is taken over because that
      // process is gone on this host (same host name), so the re-run does not wait 15 minutes.
      if (which === 'full') {
        const again = await runChild(store, prefix, chain.full.manifestPath);
        expect(again).toMatchObject({ code: 0, signal: null });
      }
      const delta = await runChild(store, prefix, chain.delta.manifestPath);
      expect(delta).toMatchObject({ code: 0, signal: null });

      expect(await checkRepo(storage, { deep: true })).toMatchObject({ ok: true, problems: [] });
      expect(await repoContents(storage)).toEqual(reference);
      if (store === moto) expect(await pendingUploads(store, prefix)).toEqual([]);
      await storage.close();
      await sweepScratch(killed.pid);
    },
  );
});
