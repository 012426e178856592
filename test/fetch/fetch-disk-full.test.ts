/**
 * A workspace disk that fills up while a body streams in: the fetch fails as a storage
 * failure (exit 5) naming the partial file, nothing enters blobs/, and the body is abandoned
 * rather than read to the end. A real tiny tmpfs, as in test/repo/storage-failure.test.ts;
 * skipped where mounting is not allowed.
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageError } from '../../src/errors.js';
import { createDispatcher } from '../../src/fetch/dispatcher.js';
import { fetchFile } from '../../src/fetch/fetch-file.js';
import { BlobStore } from '../../src/workspace/blob-store.js';
import { canMount, mountTmpfs, unmount } from '../helpers/tmpfs.js';
import { randomBytesOf, sha256, startFaultServer, type FaultServer } from './fault-server.js';

let dir: string;
let target: string;
let mounted = false;
let server: FaultServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-fetch-full-'));
  target = join(dir, 'ws');
  await mkdir(target);
  server = await startFaultServer();
  mounted = canMount && mountTmpfs(target, 'size=512k');
});
afterAll(async () => {
  await server.close();
  if (mounted) unmount(target);
  await rm(dir, { recursive: true, force: true });
});

describe('fetchFile on a full disk', () => {
  it.skipIf(!canMount)('fails with a StorageError (exit 5) and stores nothing', async (t) => {
    if (!mounted) t.skip();
    const body = randomBytesOf(4 * 1024 * 1024, 21);
    server.set('/big.tar.gz', { body });
    const dispatcher = createDispatcher({ bodyTimeoutMs: 2000 });
    try {
      const store = new BlobStore(target);
      const error = await fetchFile(
        { url: server.url('/big.tar.gz'), expected: { sha256: sha256(body) } },
        { dispatcher, store, retry: { baseDelayMs: 5, attempts: 3 } },
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageError);
      expect(error).toMatchObject({ exitCode: 5 });
      expect((error as Error).message).toContain(store.tmpDir);
      expect(await readdir(join(target, 'blobs'))).toEqual([]);
      // A disk-full is not retried: one request.
      expect(server.requestsFor('/big.tar.gz')).toHaveLength(1);
    } finally {
      await dispatcher.close();
    }
  });
});
