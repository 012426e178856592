/**
 * One import at a time per repository: a second one fails cleanly with ELOCKED (exit 5,
 * naming the holder) or, asked to wait, waits and then finds the work done. Locks left by a
 * dead process on this host, or expired ones, are taken over.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireImportLock, readImportLock, type LockEvent } from '../../src/repo/import-lock.js';
import { importBundle, type ImportEvent } from '../../src/repo/import.js';
import { IMPORT_LOCK_KEY } from '../../src/repo/layout.js';
import { openStorage } from '../../src/repo/open-storage.js';
import type { Storage } from '../../src/repo/storage.js';
import { makeBundleChain, type BundleChain } from './bundle-fixture.js';

let dir: string;
let chain: BundleChain;
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-lock-'));
  chain = await makeBundleChain(dir);
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function newRepo(): Promise<Storage> {
  return openStorage(join(dir, `repo${n++}`), { create: true });
}

/** The pid of a process that has exited: its lock is stale. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

function lockBody(fields: Partial<Record<string, unknown>>): string {
  const now = Date.now();
  return JSON.stringify({
    owner: 'someone-else',
    host: hostname(),
    pid: process.pid,
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 60_000).toISOString(),
    ...fields,
  });
}

describe('the import lock', { timeout: 30_000 }, () => {
  it('two concurrent imports: one imports, the other fails cleanly with ELOCKED', async () => {
    const storage = await newRepo();
    const results = await Promise.allSettled([
      importBundle({ manifestPath: chain.full.manifestPath, storage }),
      importBundle({ manifestPath: chain.full.manifestPath, storage }),
    ]);
    const done = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(done).toHaveLength(1);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.reason).toMatchObject({ code: 'ELOCKED', exitCode: 5 });
    expect(String(failed[0]!.reason.hint)).toContain(IMPORT_LOCK_KEY);
    expect(await readImportLock(storage)).toBeUndefined();
  });

  it('with wait, an import waits for the holder to finish and then runs', async () => {
    const storage = await newRepo();
    const holder = await acquireImportLock(storage);
    const events: ImportEvent[] = [];
    const waiting = importBundle({
      manifestPath: chain.full.manifestPath,
      storage,
      wait: true,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'lock-wait') void holder.release();
      },
    });
    await expect(waiting).resolves.toMatchObject({ alreadyImported: false });
    expect(events[0]).toMatchObject({ type: 'lock-wait', holder: { pid: process.pid } });
  });

  it('takes over a lock whose process on this host is dead (an import killed with -9)', async () => {
    const storage = await newRepo();
    await storage.createExclusive(IMPORT_LOCK_KEY, lockBody({ pid: await deadPid() }));
    const events: LockEvent[] = [];
    const lock = await acquireImportLock(storage, { onEvent: (e) => events.push(e) });
    expect(events[0]).toMatchObject({ type: 'lock-takeover' });
    expect((await readImportLock(storage))?.owner).toBe(lock.record.owner);
    await lock.release();
    expect(await readImportLock(storage)).toBeUndefined();
  });

  it('takes over an expired lock held by another host, and respects a live one', async () => {
    const storage = await newRepo();
    const expired = lockBody({
      host: 'elsewhere',
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });
    await storage.createExclusive(IMPORT_LOCK_KEY, expired);
    const lock = await acquireImportLock(storage);
    await lock.release();

    await storage.createExclusive(IMPORT_LOCK_KEY, lockBody({ host: 'elsewhere', pid: 4242 }));
    await expect(acquireImportLock(storage)).rejects.toThrow('host elsewhere, pid 4242');
  });

  it('release leaves a lock alone that is no longer ours', async () => {
    const storage = await newRepo();
    const lock = await acquireImportLock(storage);
    await storage.write(IMPORT_LOCK_KEY, lockBody({ owner: 'new-owner' }));
    await lock.release();
    expect((await readImportLock(storage))?.owner).toBe('new-owner');
  });

  it('a holder whose lock was taken over finds out at its next refresh (ELOCKLOST)', async () => {
    const storage = await newRepo();
    const lock = await acquireImportLock(storage, { ttlMs: 3000 });
    await storage.write(IMPORT_LOCK_KEY, lockBody({ owner: 'taker' }));
    await expect
      .poll(
        () => {
          try {
            lock.throwIfLost();
            return 'held';
          } catch (err) {
            return (err as { code?: string; exitCode?: number }).code;
          }
        },
        { timeout: 10_000 },
      )
      .toBe('ELOCKLOST');
    await lock.release();
    expect((await readImportLock(storage))?.owner).toBe('taker');
  });
});
