import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
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
    expect(store.hasSync(hash)).toBe(false);
    await store.commit(temp, hash);
    expect(store.blobPath(hash)).toBe(join(dir, 'blobs', hash.slice(0, 2), hash));
    expect((await readFile(store.blobPath(hash))).equals(bytes)).toBe(true);
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

  it('replaces a blob that rotted on disk with the verified bytes', async () => {
    const store = new BlobStore(dir);
    await store.init();
    const bytes = Buffer.from('verified bytes');
    const hash = sha256(bytes);
    await writeFile(join(store.tmpDir, 'a.part'), bytes);
    await store.commit(join(store.tmpDir, 'a.part'), hash);
    await writeFile(store.blobPath(hash), 'rotted');
    await writeFile(join(store.tmpDir, 'b.part'), bytes);
    await store.commit(join(store.tmpDir, 'b.part'), hash);
    expect((await readFile(store.blobPath(hash))).equals(bytes)).toBe(true);
  });

  it('recreates a blob directory removed by hand during a run', async () => {
    const store = new BlobStore(dir);
    await store.init();
    const first = Buffer.from('first');
    await writeFile(join(store.tmpDir, 'a.part'), first);
    await store.commit(join(store.tmpDir, 'a.part'), sha256(first));
    await rm(join(dir, 'blobs'), { recursive: true });
    await mkdir(join(dir, 'blobs'));
    // Same two-hex-digit directory as the first blob: the store believed it existed.
    const second = sameDirectoryBytes(sha256(first).slice(0, 2));
    await writeFile(join(store.tmpDir, 'b.part'), second);
    await store.commit(join(store.tmpDir, 'b.part'), sha256(second));
    expect((await readFile(store.blobPath(sha256(second)))).equals(second)).toBe(true);
  });

  it('syncs the directories of committed blobs when asked, and then has none left', async () => {
    const store = new BlobStore(dir);
    await store.init();
    for (const text of ['one', 'two', 'three']) {
      await writeFile(join(store.tmpDir, `${text}.part`), text);
      await store.commit(join(store.tmpDir, `${text}.part`), sha256(Buffer.from(text)));
    }
    await store.syncDirectories();
    // A directory that vanished since would fail its fsync: none is left to sync.
    await rm(join(dir, 'blobs'), { recursive: true });
    await expect(store.syncDirectories()).resolves.toBeUndefined();
  });

  it('knows the temp files listed at init and those noted since, and removes them', async () => {
    await mkdir(join(dir, 'tmp'), { recursive: true });
    await writeFile(join(dir, 'tmp', 'left-by-a-crash.part'), 'x');
    const store = new BlobStore(dir);
    await store.init();
    expect(store.mayHaveTemp(join(store.tmpDir, 'left-by-a-crash.part'))).toBe(true);
    expect(store.mayHaveTemp(join(store.tmpDir, 'never-made.part'))).toBe(false);
    store.noteTemp(join(store.tmpDir, 'made-now.part'));
    expect(store.mayHaveTemp(join(store.tmpDir, 'made-now.part'))).toBe(true);
    await store.removeTemp(join(store.tmpDir, 'made-now.part')); // never written: fine
    await store.removeTemp(join(store.tmpDir, 'left-by-a-crash.part'));
    expect(await readdir(store.tmpDir)).toEqual([]);
    expect(store.mayHaveTemp(join(store.tmpDir, 'left-by-a-crash.part'))).toBe(false);
  });

  it('refuses a name that is not a sha256 digest', () => {
    expect(() => new BlobStore(dir).blobPath('../../etc/passwd')).toThrow(TypeError);
    expect(new BlobStore(dir).hasSync('0'.repeat(64))).toBe(false);
  });
});

/** Bytes whose sha256 starts with `prefix` (two hex digits: found within a few hundred tries). */
function sameDirectoryBytes(prefix: string): Buffer {
  for (let i = 0; ; i++) {
    const bytes = Buffer.from(`candidate ${i}`);
    if (sha256(bytes).startsWith(prefix)) return bytes;
  }
}
