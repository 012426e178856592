/**
 * S3 as real object stores behave: the import lock by conditional writes on a store that
 * honours them (moto) and its announced fallback on one that ignores them (s3rver); every
 * call retried with backoff through a proxy that answers 503 SlowDown, 500 and cut
 * connections; a store that never recovers fails with a StorageError naming the fault.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRepo } from '../../src/repo/check.js';
import { acquireImportLock, readImportLock, type LockEvent } from '../../src/repo/import-lock.js';
import { importBundle } from '../../src/repo/import.js';
import { IMPORT_LOCK_KEY } from '../../src/repo/layout.js';
import { MAX_ATTEMPTS, openStorage } from '../../src/repo/open-storage.js';
import { runAirlock } from '../helpers/cli.js';
import { startFaultProxy } from '../helpers/s3-fault-proxy.js';
import { makeBundleChain, type BundleChain } from './bundle-fixture.js';
import { MOTO_CREDENTIALS, MOTO_MISSING, startMoto, whereMotoRuns } from './moto-fixture.js';
import { repoContents } from './repo-contents.js';
import { S3_CREDENTIALS, startS3, type S3Fixture } from './s3rver-fixture.js';

let dir: string;
let chain: BundleChain;
let s3: S3Fixture;
let moto: S3Fixture | undefined;
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-s3-real-'));
  // 9 MiB: more than one 8 MiB part, so the faults also hit a multipart upload.
  [chain, s3, moto] = await Promise.all([
    makeBundleChain(dir, { bigFile: 9 * 1024 * 1024 }),
    startS3(),
    MOTO_MISSING ? undefined : startMoto(),
  ]);
}, 60_000);
afterAll(async () => {
  await Promise.all([s3?.close(), moto?.close()]);
  await rm(dir, { recursive: true, force: true });
}, 60_000);

function lockBody(fields: Partial<Record<string, unknown>>): string {
  const now = Date.now();
  return JSON.stringify({
    owner: 'someone-else',
    host: 'elsewhere',
    pid: 4242,
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 60_000).toISOString(),
    ...fields,
  });
}

describe.skipIf(MOTO_MISSING)(
  'the import lock on a store with conditional writes (moto)',
  { timeout: 60_000 },
  () => {
    it('the probe finds them honoured and the lock is held by compare-and-swap', async () => {
      const storage = await moto!.open(`lock${n++}`);
      const support = await storage.conditionalWrites!();
      expect(support.supported).toBe(true);
      const events: LockEvent[] = [];
      const lock = await acquireImportLock(storage, { onEvent: (e) => events.push(e) });
      expect(lock.conditional).toBe(true);
      expect(events).toEqual([]);
      expect((await readImportLock(storage))?.owner).toBe(lock.record.owner);
      // The probe leaves nothing behind in locks/.
      const keys: string[] = [];
      for await (const key of storage.list('locks/')) keys.push(key);
      expect(keys).toEqual([IMPORT_LOCK_KEY]);
      await lock.release();
      expect(await readImportLock(storage)).toBeUndefined();
      await storage.close();
    });

    it('an import while another holds the lock fails with ELOCKED; the holder finishes', async () => {
      const storage = await moto!.open(`lock${n++}`);
      const first = importBundle({ manifestPath: chain.full.manifestPath, storage });
      // Started once the first holds the lock: moto checks If-None-Match and stores the object
      // in two steps on different threads, so two creates in the same instant can both pass
      // there (AWS S3 decides them atomically). What is tested here is airlock's side.
      await expect.poll(() => readImportLock(storage), { timeout: 10_000 }).toBeDefined();
      await expect(
        importBundle({ manifestPath: chain.full.manifestPath, storage }),
      ).rejects.toMatchObject({ code: 'ELOCKED', exitCode: 5 });
      await expect(first).resolves.toMatchObject({ alreadyImported: false });
      expect(await readImportLock(storage)).toBeUndefined();
      expect(await checkRepo(storage, { deep: true })).toMatchObject({ ok: true });
      await storage.close();
    });

    it('takes over an expired lock and respects a live one', async () => {
      const storage = await moto!.open(`lock${n++}`);
      await storage.write(
        IMPORT_LOCK_KEY,
        lockBody({ expiresAt: new Date(Date.now() - 1000).toISOString() }),
      );
      const events: LockEvent[] = [];
      const lock = await acquireImportLock(storage, { onEvent: (e) => events.push(e) });
      expect(events).toMatchObject([
        { type: 'lock-takeover', reason: expect.stringContaining('expired') },
      ]);
      await lock.release();
      await storage.write(IMPORT_LOCK_KEY, lockBody({}));
      await expect(acquireImportLock(storage)).rejects.toMatchObject({ code: 'ELOCKED' });
      await storage.close();
    });

    it('renewal and release never overwrite or delete a lock that another writer put there', async () => {
      const storage = await moto!.open(`lock${n++}`);
      // A 3 s lifetime renews every second.
      const lock = await acquireImportLock(storage, { ttlMs: 3000 });
      await expect
        .poll(async () => Date.parse((await readImportLock(storage))!.expiresAt), {
          timeout: 10_000,
        })
        .toBeGreaterThan(Date.parse(lock.record.expiresAt));
      expect((await readImportLock(storage))?.owner).toBe(lock.record.owner);
      // Someone judged it stale and took it: our next renewal and our release must leave it be.
      await storage.write(IMPORT_LOCK_KEY, lockBody({ owner: 'new-owner' }));
      await new Promise((r) => setTimeout(r, 1300));
      await lock.release();
      expect(await readImportLock(storage)).toMatchObject({
        owner: 'new-owner',
        host: 'elsewhere',
      });
      await storage.close();
    });
  },
);

describe('the import lock on a store that ignores conditional writes (s3rver)', () => {
  it('says so with a lock-unconditional event naming the store, and still locks', async () => {
    const storage = await s3.open(`lock${n++}`);
    const support = await storage.conditionalWrites!();
    expect(support).toMatchObject({
      supported: false,
      reason: expect.stringContaining('If-None-Match'),
    });
    const events: LockEvent[] = [];
    const lock = await acquireImportLock(storage, { onEvent: (e) => events.push(e) });
    expect(lock.conditional).toBe(false);
    expect(events).toEqual([
      {
        type: 'lock-unconditional',
        location: storage.location,
        reason: support.supported ? '' : support.reason,
      },
    ]);
    await expect(acquireImportLock(storage)).rejects.toMatchObject({ code: 'ELOCKED' });
    await lock.release();
    expect(await readImportLock(storage)).toBeUndefined();
    await storage.close();
  });
});

describe('a lock taken over while held', { timeout: 30_000 }, () => {
  it.each(
    whereMotoRuns(
      [
        ['moto (conditional writes)', () => moto!],
        ['s3rver (read-check-write)', () => s3],
      ],
      ([name]) => name.startsWith('moto'),
    ),
  )('%s: the holder finds out at its next refresh and must not publish', async (_name, store) => {
    const storage = await store().open(`lost${n++}`);
    const lock = await acquireImportLock(storage, { ttlMs: 3000 });
    expect(() => lock.throwIfLost()).not.toThrow();
    await storage.write(IMPORT_LOCK_KEY, lockBody({ owner: 'taker' }));
    await expect
      .poll(
        () => {
          try {
            lock.throwIfLost();
            return 'held';
          } catch (err) {
            return (err as { code?: string }).code;
          }
        },
        { timeout: 10_000 },
      )
      .toBe('ELOCKLOST');
    await lock.release();
    expect(await readImportLock(storage)).toMatchObject({ owner: 'taker' });
    await storage.close();
  });
});

describe('airlock import on a store that ignores conditional writes', () => {
  it('warns that the lock falls back to read-check-write, naming the store', async () => {
    const res = await runAirlock(
      [
        'import',
        chain.full.manifestPath,
        '--repo',
        's3://packages/cli-warning',
        '--s3-endpoint',
        s3.endpoint,
      ],
      {
        AWS_ACCESS_KEY_ID: S3_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretAccessKey,
        AWS_REGION: 'us-east-1',
      },
    );
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain(
      's3://packages/cli-warning ignores conditional writes (the store ignores If-None-Match',
    );
    expect(res.stderr).toContain('falls back to read-check-write');
  });
});

describe('every S3 call is retried with backoff', { timeout: 120_000 }, () => {
  it.each(
    whereMotoRuns(
      [
        ['s3rver', () => s3],
        ['moto', () => moto!],
      ],
      ([name]) => name === 'moto',
    ),
  )(
    '%s behind a proxy answering 503 SlowDown, 500 and cut connections: import, list and check still succeed',
    async (_name, store) => {
      const target = store();
      // Faults in bursts: the first three requests, then every thirteenth, seventh and eleventh one.
      const proxy = await startFaultProxy(target.endpoint, (i) =>
        i <= 3 || i % 5 === 0
          ? 'slowdown'
          : i % 7 === 0
            ? 'internal'
            : i % 11 === 0
              ? 'reset'
              : 'pass',
      );
      const prefix = `retry${n++}`;
      const credentials = target === s3 ? S3_CREDENTIALS : MOTO_CREDENTIALS;
      const storage = await openStorage(`s3://packages/${prefix}`, {
        s3Endpoint: proxy.endpoint,
        credentials,
      });
      try {
        await importBundle({ manifestPath: chain.full.manifestPath, storage });
        await importBundle({ manifestPath: chain.delta.manifestPath, storage });
        expect(await checkRepo(storage, { deep: true })).toMatchObject({ ok: true, problems: [] });
        expect(proxy.counts.slowdown).toBeGreaterThan(5);
        expect(proxy.counts.internal).toBeGreaterThan(3);
        expect(proxy.counts.reset).toBeGreaterThan(3);
        // The same repository as an import straight into the store, without faults.
        const direct = await target.open(`direct${n++}`);
        await importBundle({ manifestPath: chain.full.manifestPath, storage: direct });
        await importBundle({ manifestPath: chain.delta.manifestPath, storage: direct });
        const through = await target.open(prefix);
        expect(await repoContents(through)).toEqual(await repoContents(direct));
        await Promise.all([direct.close(), through.close()]);
      } finally {
        await storage.close();
        await proxy.close();
      }
    },
  );

  it('a HEAD answered 500 every time fails naming the status (no body to name the code)', async () => {
    const proxy = await startFaultProxy(s3.endpoint, () => 'internal');
    const storage = await openStorage('s3://packages/down', {
      s3Endpoint: proxy.endpoint,
      credentials: S3_CREDENTIALS,
    });
    try {
      await expect(storage.stat('published.json')).rejects.toMatchObject({
        exitCode: 5,
        message: expect.stringContaining(`(HTTP 500) after ${MAX_ATTEMPTS} attempts`),
        hint: expect.stringContaining('failed through every retry'),
      });
      expect(proxy.counts.requests).toBe(MAX_ATTEMPTS);
    } finally {
      await storage.close();
      await proxy.close();
    }
  });

  it('a store that keeps answering SlowDown fails with a StorageError naming it, after the retries', async () => {
    const proxy = await startFaultProxy(s3.endpoint, () => 'slowdown');
    const storage = await openStorage('s3://packages/down', {
      s3Endpoint: proxy.endpoint,
      credentials: S3_CREDENTIALS,
    });
    try {
      await expect(storage.readBuffer('published.json')).rejects.toMatchObject({
        exitCode: 5,
        message: expect.stringContaining(`SlowDown (HTTP 503) after ${MAX_ATTEMPTS} attempts`),
        hint: expect.stringContaining('slow down'),
      });
      expect(proxy.counts.requests).toBe(MAX_ATTEMPTS);
    } finally {
      await storage.close();
      await proxy.close();
    }
  });
});
