import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobList } from '../../src/bundle/blob-list.js';
import { openScratchDb } from '../../src/scratch-db.js';
import { openBundle } from '../../src/bundle/open.js';
import { readBundle } from '../../src/bundle/read.js';
import { craftBundle, indexFor, sha256 } from '../helpers/craft-bundle.js';
import { StorageError } from '../../src/errors.js';
import { canMount, mountTmpfs, unmount } from '../helpers/tmpfs.js';
import { caught } from './bundle-fixture.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-blob-list-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const shaOf = (i: number): string => sha256(Buffer.from(`blob ${i}`));

describe('the index blob list (kept on disk, not in memory)', () => {
  for (const where of ['a scratch directory', 'an anonymous temporary database']) {
    it(`keeps blobs in index order and refuses a second listing, in ${where}`, () => {
      const list = BlobList.create(where === 'a scratch directory' ? dir : undefined);
      try {
        for (let i = 0; i < 1000; i++) expect(list.add(shaOf(i), i)).toBe(true);
        expect(list.add(shaOf(7), 7)).toBe(false);
        expect(list.length).toBe(1000);
        expect(list.at(0)).toEqual({ type: 'blob', sha256: shaOf(0), size: 0 });
        expect(list.at(999)).toEqual({ type: 'blob', sha256: shaOf(999), size: 999 });
        expect(list.at(1000)).toBeUndefined();
        expect(list.has(shaOf(500))).toBe(true);
        expect(list.has(shaOf(1000))).toBe(false);
      } finally {
        list.close();
      }
      expect(existsSync(join(dir, 'blob-list.db'))).toBe(where === 'a scratch directory');
    });
  }

  it('refuses an index that lists a blob twice, naming the line, before any blob is read', async () => {
    const good = Buffer.from('good');
    const records = indexFor([good]);
    const blob = records.at(-1)!;
    const b = await craftBundle(dir, {
      indexRecords: [...records, blob],
      entries: [
        { name: `blobs/${sha256(good)}`, body: good },
        { name: `blobs/${sha256(good)}`, body: good },
      ],
    });
    const handed: string[] = [];
    const err = await caught(async () =>
      readBundle(await openBundle(b.manifestPath), {
        onBlob: async (record, body) => {
          for await (const _ of body) void _;
          handed.push(record.sha256);
        },
      }),
    );
    expect(err).toMatchObject({ code: 'EUNSAFE', exitCode: 4 });
    expect(err.message).toMatch(/line 5: blob [0-9a-f]{64} is listed twice/);
    expect(handed).toEqual([]);
  });

  it('reads a bundle of many blobs with its list in the scratch directory it is given', async () => {
    const files = Array.from({ length: 300 }, (_, i) => Buffer.from(`file ${i}\n`));
    const b = await craftBundle(dir, {
      indexRecords: indexFor(files),
      entries: files.map((f) => ({ name: `blobs/${sha256(f)}`, body: f })),
    });
    const scratch = await mkdtemp(join(dir, 'scratch-'));
    const seen: string[] = [];
    const result = await readBundle(
      await openBundle(b.manifestPath),
      {
        onBlob: async (record, body) => {
          for await (const _ of body) void _;
          seen.push(record.sha256);
        },
      },
      { scratchDir: scratch },
    );
    expect(result.blobs).toBe(300);
    expect(seen).toEqual(files.map(sha256));
    expect(existsSync(join(scratch, 'blob-list.db'))).toBe(true);
  });
});

describe('scratch databases', () => {
  it('keep no rollback journal (they are rebuilt, never recovered)', () => {
    const db = openScratchDb(join(dir, 'scratch.db'), 1024);
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('off');
      expect(db.pragma('synchronous', { simple: true })).toBe(0);
      db.exec('CREATE TABLE t (a); BEGIN; INSERT INTO t VALUES (1); COMMIT');
      expect(existsSync(join(dir, 'scratch.db-journal'))).toBe(false);
    } finally {
      db.close();
    }
  });

  it.skipIf(!canMount)('fail as a StorageError naming the file when the disk fills', async () => {
    const full = join(dir, 'full');
    await mkdir(full);
    if (!mountTmpfs(full, 'size=256k')) return;
    try {
      // The page cache (4 MiB) spills to the file long before 100,000 blobs are listed.
      const list = BlobList.create(full);
      try {
        let err: unknown;
        try {
          for (let i = 0; i < 100_000; i++) list.add(shaOf(i), i);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(StorageError);
        expect((err as StorageError).code).toBe('ENOSPC');
        expect((err as Error).message).toContain(join(full, 'blob-list.db'));
        expect((err as StorageError).exitCode).toBe(5);
      } finally {
        list.close();
      }
    } finally {
      unmount(full);
    }
  });
});
