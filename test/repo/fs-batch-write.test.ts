/**
 * FsStorage.writeBatch, the path an import stores its small blobs by: every item lands whole
 * at its key, same-size objects are kept when asked, and a failing item leaves no temp file
 * and no object behind.
 */
import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StorageError } from '../../src/errors.js';
import { FsStorage } from '../../src/repo/fs-storage.js';

let dir: string;
let storage: FsStorage;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-batch-'));
  storage = new FsStorage(dir);
});
afterEach(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

const item = (key: string, text: string) => ({ key, body: Buffer.from(text) });

describe('FsStorage.writeBatch', () => {
  it('stores every item whole at its key, in directories it creates, and leaves no temp file', async () => {
    const items = Array.from({ length: 70 }, (_, i) =>
      item(
        `blobs/sha256/${(i % 5).toString(16).padStart(2, '0')}/b${i}`,
        `bytes of ${i}`.repeat(i + 1),
      ),
    );
    expect(await storage.writeBatch(items, { deferNameSync: true })).toEqual(items.map(() => true));
    await storage.syncDeferred();
    for (const { key, body } of items) expect(await storage.readBuffer(key)).toEqual(body);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });

  it('keeps an object of the same size with keepSameSize and replaces one of another size', async () => {
    await storage.write('blobs/sha256/aa/same', 'old!');
    await storage.write('blobs/sha256/aa/other', 'old');
    const written = await storage.writeBatch(
      [
        item('blobs/sha256/aa/same', 'new!'),
        item('blobs/sha256/aa/other', 'newer'),
        item('blobs/sha256/aa/fresh', 'x'),
      ],
      { keepSameSize: true },
    );
    expect(written).toEqual([false, true, true]);
    expect((await storage.readBuffer('blobs/sha256/aa/same'))?.toString()).toBe('old!');
    expect((await storage.readBuffer('blobs/sha256/aa/other'))?.toString()).toBe('newer');
    expect((await storage.readBuffer('blobs/sha256/aa/fresh'))?.toString()).toBe('x');
  });

  it('rejects with a StorageError naming the key that cannot be stored, and removes the temp files', async () => {
    // A regular file where the item's directory must go: its rename cannot succeed.
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    await writeFile(join(dir, 'blobs', 'sha256', 'bb'), 'in the way');
    const attempt = storage.writeBatch([item('blobs/sha256/bb/blob', 'bytes')]);
    await expect(attempt).rejects.toBeInstanceOf(StorageError);
    await expect(attempt).rejects.toThrow(/blobs\/sha256\/bb\/blob/);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    // The writer thread survives a failed batch.
    expect(await storage.writeBatch([item('blobs/sha256/cc/ok', 'fine')])).toEqual([true]);
  });
});
