/**
 * The importer's account of the blobs a bundle needs (kept in a scratch database in its temp
 * dir): sizes must agree, and a delta's uncarried blobs must already be stored, whether it
 * checks them one by one or, past 500 of them, through one listing of the repository.
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IndexRecord } from '../../src/bundle/index-records.js';
import { importBundle } from '../../src/repo/import.js';
import { openStorage } from '../../src/repo/open-storage.js';
import type { Storage } from '../../src/repo/storage.js';
import { craftBundle, indexFor, sha256, type CraftedBundle } from '../helpers/craft-bundle.js';
import { publishedKeys } from './repo-contents.js';

const FULL_ID = '20261101T100000Z-aaaaaa';
const DELTA_ID = '20261102T100000Z-bbbbbb';
const MANY = 600; // over the 500 past which the importer lists blobs/ instead of stat-ing each

let dir: string;
let n = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-needs-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const files = Array.from({ length: MANY }, (_, i) => Buffer.from(`package ${i}\n`));

async function place(name: string): Promise<string> {
  const at = join(dir, `${name}${n++}`);
  await mkdir(at, { recursive: true });
  return at;
}

/** A full bundle carrying `files`, imported into a new repository. */
async function repoWithFiles(): Promise<Storage> {
  const storage = await openStorage(await place('repo'), { create: true });
  const full = await craftBundle(await place('full'), {
    id: FULL_ID,
    indexRecords: indexFor(files, FULL_ID),
    entries: files.map((f) => ({ name: `blobs/${sha256(f)}`, body: f })),
  });
  await importBundle({ manifestPath: full.manifestPath, storage });
  return storage;
}

/** A delta of cran/2026-11-02 referencing `referenced`, carrying only `carried`. */
async function delta(referenced: Buffer[], carried: Buffer[]): Promise<CraftedBundle> {
  const carriedShas = new Set(carried.map(sha256));
  const records = indexFor(referenced, DELTA_ID)
    .filter((r) => r.type !== 'blob' || carriedShas.has(r.sha256))
    .map((r): IndexRecord => {
      if (r.type === 'bundle') return { ...r, parent: FULL_ID, full: false };
      if (r.type === 'snapshot' || r.type === 'entry') return { ...r, snapshot: '2026-11-02' };
      return r;
    });
  return craftBundle(await place('delta'), {
    id: DELTA_ID,
    indexRecords: records,
    entries: carried.map((f) => ({ name: `blobs/${sha256(f)}`, body: f })),
  });
}

async function importTempDirsOfThisProcess(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((d) => d.startsWith(`airlock-import-${process.pid}-`));
}

describe('blobs a bundle references but does not carry', () => {
  it(`imports a delta whose ${MANY} uncarried blobs the repository holds (one listing)`, async () => {
    const storage = await repoWithFiles();
    const fresh = Buffer.from('a new package\n');
    const b = await delta([...files, fresh], [fresh]);
    await expect(importBundle({ manifestPath: b.manifestPath, storage })).resolves.toMatchObject({
      alreadyImported: false,
      blobsStored: 1,
    });
    expect(await importTempDirsOfThisProcess()).toEqual([]);
  });

  it('refuses a delta when one of many uncarried blobs is missing, naming it', async () => {
    const storage = await repoWithFiles();
    const before = await publishedKeys(storage);
    const absent = Buffer.from('never imported\n');
    const b = await delta([...files.slice(0, 300), absent, ...files.slice(300)], []);
    const attempt = importBundle({ manifestPath: b.manifestPath, storage });
    await expect(attempt).rejects.toMatchObject({ code: 'EMISSING', exitCode: 4 });
    await expect(attempt).rejects.toThrow(`${sha256(absent)} (src/contrib/pkg300_1.0.tar.gz)`);
    expect(await publishedKeys(storage)).toEqual(before);
    expect(await importTempDirsOfThisProcess()).toEqual([]);
  });

  it('refuses a delta whose few uncarried blobs are missing, naming the first', async () => {
    const storage = await repoWithFiles();
    const absent = [Buffer.from('missing one\n'), Buffer.from('missing two\n')];
    const b = await delta([files[0]!, ...absent], []);
    await expect(importBundle({ manifestPath: b.manifestPath, storage })).rejects.toMatchObject({
      code: 'EMISSING',
      message: expect.stringContaining(sha256(absent[0]!)),
    });
  });
});

describe('sizes of one blob must agree', () => {
  it('refuses two entries that give one sha256 two sizes, naming both paths', async () => {
    const storage = await openStorage(await place('repo'), { create: true });
    const good = Buffer.from('a package\n');
    const records = indexFor([good, good]).map((r, i) =>
      r.type === 'entry' && i === 3 ? { ...r, size: good.length + 1 } : r,
    );
    const snapshot = records[1]!;
    if (snapshot.type === 'snapshot') snapshot.bytes += 1;
    const b = await craftBundle(await place('b'), {
      indexRecords: records.filter((r, i) => !(r.type === 'blob' && i === 5)),
      entries: [{ name: `blobs/${sha256(good)}`, body: good }],
    });
    const attempt = importBundle({ manifestPath: b.manifestPath, storage });
    await expect(attempt).rejects.toMatchObject({ code: 'ESIZE', exitCode: 4 });
    await expect(attempt).rejects.toThrow(
      `sizes disagree for blob ${sha256(good)}: src/contrib/pkg0_1.0.tar.gz says ${good.length} bytes, src/contrib/pkg1_1.0.tar.gz ${good.length + 1}`,
    );
    expect(await publishedKeys(storage)).toEqual([]);
  });
});
