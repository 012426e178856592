/**
 * Importing real bundles into a real S3-compatible server (s3rver on loopback): full and
 * incremental, a blob large enough for a multipart upload, idempotent re-import, the lock on
 * S3, and a repository that status and check --deep read back through the same backend.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRepo } from '../../src/repo/check.js';
import { acquireImportLock } from '../../src/repo/import-lock.js';
import { importBundle } from '../../src/repo/import.js';
import { openStorage } from '../../src/repo/open-storage.js';
import { repoStatus } from '../../src/repo/status.js';
import { makeBundleChain, type BundleChain } from './bundle-fixture.js';
import { repoContents } from './repo-contents.js';
import { S3_CREDENTIALS, startS3, type S3Fixture } from './s3rver-fixture.js';

let dir: string;
let chain: BundleChain;
let s3: S3Fixture;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-import-s3-'));
  // 17 MiB: more than one 16 MiB part, so lib-storage uploads it in several.
  chain = await makeBundleChain(dir, { bigFile: 17 * 1024 * 1024 });
  s3 = await startS3();
}, 60_000);
afterAll(async () => {
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('import into S3', { timeout: 30_000 }, () => {
  it('imports full then delta; status and check --deep read the same repository back', async () => {
    const storage = await s3.open('airlock');
    const full = await importBundle({ manifestPath: chain.full.manifestPath, storage });
    expect(full).toMatchObject({ alreadyImported: false, blobsStored: chain.full.blobCount });
    const delta = await importBundle({ manifestPath: chain.delta.manifestPath, storage });
    expect(delta).toMatchObject({ alreadyImported: false, blobsStored: 2, generation: 2 });

    const status = await repoStatus(storage);
    expect(status.location).toBe('s3://packages/airlock');
    expect(status.sources.map((s) => [s.name, s.latest])).toEqual([
      ['cran', '2026-11-02'],
      ['pypi', '2026-11-01'],
    ]);
    expect(status.bundles.map((b) => b.id)).toEqual([chain.full.id, chain.delta.id]);
    const check = await checkRepo(storage, { deep: true });
    expect(check).toMatchObject({ ok: true, problems: [] });
    expect(check.checkedBytes).toBeGreaterThan(17 * 1024 * 1024);

    const before = await repoContents(storage);
    await expect(
      importBundle({ manifestPath: chain.delta.manifestPath, storage }),
    ).resolves.toMatchObject({ alreadyImported: true, id: chain.delta.id });
    expect(await repoContents(storage)).toEqual(before);
    await storage.close();
  });

  it('keeps repositories under different prefixes of one bucket independent', async () => {
    const a = await s3.open('one');
    const b = await s3.open('two');
    await importBundle({ manifestPath: chain.full.manifestPath, storage: a });
    const summary = await importBundle({ manifestPath: chain.full.manifestPath, storage: b });
    expect(summary).toMatchObject({ blobsStored: chain.full.blobCount, blobsPresent: 0 });
    expect(Object.keys(await repoContents(a))).toEqual(Object.keys(await repoContents(b)));
  });

  it('a held lock on S3 stops a second import with ELOCKED naming the holder', async () => {
    const storage = await s3.open('locked');
    const held = await acquireImportLock(storage);
    const attempt = importBundle({ manifestPath: chain.full.manifestPath, storage });
    await expect(attempt).rejects.toMatchObject({ code: 'ELOCKED', exitCode: 5 });
    await expect(attempt).rejects.toThrow(`pid ${process.pid}`);
    await held.release();
    await expect(
      importBundle({ manifestPath: chain.full.manifestPath, storage }),
    ).resolves.toMatchObject({ alreadyImported: false });
  });

  it('an unreachable endpoint is a storage failure (exit 5) that names the endpoint setting', async () => {
    const storage = await openStorage('s3://packages/x', {
      s3Endpoint: 'http://127.0.0.1:1',
      credentials: S3_CREDENTIALS,
    });
    const attempt = importBundle({ manifestPath: chain.full.manifestPath, storage });
    await expect(attempt).rejects.toMatchObject({ exitCode: 5 });
    await expect(attempt).rejects.toHaveProperty('hint', expect.stringContaining('endpoint'));
  }, 60_000);

  it('a missing bucket is a storage failure (exit 5) that says to create it', async () => {
    const storage = await openStorage('s3://no-such-bucket/x', {
      s3Endpoint: s3.endpoint,
      credentials: S3_CREDENTIALS,
    });
    const attempt = importBundle({ manifestPath: chain.full.manifestPath, storage });
    await expect(attempt).rejects.toMatchObject({ exitCode: 5 });
    await expect(attempt).rejects.toHaveProperty('hint', expect.stringContaining('bucket'));
  });
});
