/**
 * A target that cannot take the data is a storage failure: exit 5, a message naming the path,
 * and a hint saying what to fix. The tests run as root, which ignores permission bits, so they
 * use real file systems instead: a tiny tmpfs that fills up (ENOSPC) and a read-only tmpfs
 * (EROFS). Where mounting is not allowed, the read-only case falls back to `chattr +i` (EPERM)
 * and the full-disk case is skipped.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importBundle } from '../../src/repo/import.js';
import { openStorage } from '../../src/repo/open-storage.js';
import { canMount, mountTmpfs, unmount } from '../helpers/tmpfs.js';
import { makeBundleChain, type BundleChain } from './bundle-fixture.js';

let dir: string;
let chain: BundleChain;
const mounts: string[] = [];
const immutable: string[] = [];

function tryMount(target: string, options: string): boolean {
  if (!mountTmpfs(target, options)) return false;
  mounts.push(target);
  return true;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-storage-failure-'));
  chain = await makeBundleChain(dir, { bigFile: 300_000 });
}, 60_000);
afterAll(async () => {
  for (const m of mounts) unmount(m);
  for (const d of immutable) execFileSync('chattr', ['-i', d], { stdio: 'ignore' });
  await rm(dir, { recursive: true, force: true });
});

describe('storage failures exit 5 with what to fix', () => {
  it.skipIf(!canMount)(
    'a full disk (ENOSPC) fails the import with exit 5 and a disk-full hint',
    async () => {
      const target = join(dir, 'full');
      await mkdir(target);
      if (!tryMount(target, 'size=128k')) return;
      const storage = await openStorage(join(target, 'repo'), { create: true });
      const attempt = importBundle({ manifestPath: chain.full.manifestPath, storage });
      await expect(attempt).rejects.toMatchObject({ exitCode: 5, code: 'ENOSPC' });
      await expect(attempt).rejects.toThrow(target);
      await expect(attempt).rejects.toHaveProperty('hint', expect.stringContaining('disk is full'));
    },
  );

  it('a read-only target fails the import with exit 5 naming the path', async () => {
    const target = join(dir, 'readonly');
    await mkdir(target);
    let expectedCode = 'EROFS';
    if (!(canMount && tryMount(target, 'ro,size=1m'))) {
      execFileSync('chattr', ['+i', target]);
      immutable.push(target);
      expectedCode = 'EPERM';
    }
    const storage = await openStorage(target);
    const attempt = importBundle({ manifestPath: chain.full.manifestPath, storage });
    await expect(attempt).rejects.toMatchObject({ exitCode: 5, code: expectedCode });
    await expect(attempt).rejects.toThrow(target);
  });

  it('a repository path that is a file is a usage error naming it', async () => {
    await expect(openStorage(chain.full.manifestPath)).rejects.toMatchObject({ exitCode: 2 });
  });
});
