import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobStore } from '../../src/workspace/blob-store.js';
import { sha256 } from './fault-server.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-blobs-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('BlobStore', () => {
  it('commits a temp file to blobs/<ab>/<sha256> as a plain file sha256sum can audit', async () => {
    const store = new BlobStore(dir);
    await store.init();
    const bytes = Buffer.from('hello blobs');
    const hash = sha256(bytes);
    const temp = join(store.tmpDir, 'x.part');
    await writeFile(temp, bytes);
    expect(await store.has(hash)).toBe(false);
    await store.commit(temp, hash);
    expect(store.blobPath(hash)).toBe(join(dir, 'blobs', hash.slice(0, 2), hash));
    expect((await readFile(store.blobPath(hash))).equals(bytes)).toBe(true);
    expect(await store.has(hash)).toBe(true);
    expect(store.hasSync(hash)).toBe(true);
    expect(await store.size(hash)).toBe(bytes.length);
    expect(await readdir(store.tmpDir)).toEqual([]);
  });

  it('drops the temp file when the blob is already present', async () => {
    const store = new BlobStore(dir);
    await store.init();
    const bytes = Buffer.from('same bytes');
    const hash = sha256(bytes);
    for (const name of ['a.part', 'b.part']) {
      await writeFile(join(store.tmpDir, name), bytes);
      await store.commit(join(store.tmpDir, name), hash);
    }
    expect(await readdir(store.tmpDir)).toEqual([]);
    expect(await readdir(join(dir, 'blobs', hash.slice(0, 2)))).toEqual([hash]);
  });

  it('refuses a name that is not a sha256 digest', () => {
    expect(() => new BlobStore(dir).blobPath('../../etc/passwd')).toThrow(TypeError);
    expect(new BlobStore(dir).hasSync('0'.repeat(64))).toBe(false);
  });
});
