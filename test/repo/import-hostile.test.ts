/**
 * Hostile and damaged bundles are refused with exit 4 and leave nothing published: no
 * published.json, no snapshot document, no bundle record. Each bundle here has valid part
 * hashes and SHA256SUMS, so only the tar, index and blob checks can catch it.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importBundle } from '../../src/repo/import.js';
import { openStorage } from '../../src/repo/open-storage.js';
import type { Storage } from '../../src/repo/storage.js';
import {
  craftBundle,
  hostileAbsolute,
  hostileDevice,
  hostileHardlink,
  hostileOversized,
  hostileSymlink,
  hostileTraversal,
  hostileUnlisted,
  indexFor,
  sha256,
  wellFormed,
  type CraftedBundle,
} from '../helpers/craft-bundle.js';
import { publishedKeys } from './repo-contents.js';

let dir: string;
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-hostile-'));
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fresh(): Promise<{ bundleDir: string; storage: Storage }> {
  const bundleDir = join(dir, `b${n}`);
  const storage = await openStorage(join(dir, `repo${n++}`), { create: true });
  await mkdir(bundleDir, { recursive: true });
  return { bundleDir, storage };
}

async function expectRefused(
  bundle: CraftedBundle,
  storage: Storage,
  code?: string,
): Promise<void> {
  const attempt = importBundle({ manifestPath: bundle.manifestPath, storage });
  await expect(attempt).rejects.toMatchObject({ exitCode: 4, ...(code ? { code } : {}) });
  expect(await publishedKeys(storage)).toEqual([]);
  // The lock is released even on refusal: the next import may run.
  expect(await storage.stat('locks/import.lock')).toBeUndefined();
}

const GOOD = Buffer.from('a good package\n');

describe('hostile bundles are refused with nothing published', () => {
  it.each([
    ['path traversal (../evil)', hostileTraversal],
    ['an absolute path (/etc/passwd)', hostileAbsolute],
    ['a symbolic link', hostileSymlink],
    ['a hard link', hostileHardlink],
    ['a device entry', hostileDevice],
    ['an entry larger than the index says', hostileOversized],
    ['an entry the index does not list', hostileUnlisted],
  ])('refuses %s', async (_name, make) => {
    const { bundleDir, storage } = await fresh();
    await expectRefused(await make(bundleDir), storage);
  });

  it('imports the well-formed bundle the hostile ones are variations of', async () => {
    const { bundleDir, storage } = await fresh();
    const bundle = await wellFormed(bundleDir);
    await expect(
      importBundle({ manifestPath: bundle.manifestPath, storage }),
    ).resolves.toMatchObject({
      alreadyImported: false,
      blobsStored: 1,
    });
  });

  it('refuses a bundle with one corrupted blob (same size, wrong bytes)', async () => {
    const { bundleDir, storage } = await fresh();
    const wrong = Buffer.from(GOOD);
    wrong[0] = wrong[0]! ^ 0x01;
    const bundle = await craftBundle(bundleDir, {
      indexRecords: indexFor([GOOD]),
      entries: [{ name: `blobs/${sha256(GOOD)}`, body: wrong }],
    });
    await expectRefused(bundle, storage);
    expect(
      await storage.stat(`blobs/sha256/${sha256(GOOD).slice(0, 2)}/${sha256(GOOD)}`),
    ).toBeUndefined();
  });

  it('refuses a corrupted large blob (streamed, not buffered) and stores nothing at its key', async () => {
    const { bundleDir, storage } = await fresh();
    // Over the importer's 1 MiB buffering limit, so it streams to the temp file; the last
    // byte is wrong, so the check fails only after every other byte was written.
    const big = Buffer.alloc(3 * 1024 * 1024, 0x61);
    const wrong = Buffer.from(big);
    wrong[wrong.length - 1] = 0x62;
    const bundle = await craftBundle(bundleDir, {
      indexRecords: indexFor([GOOD, big]),
      entries: [
        { name: `blobs/${sha256(GOOD)}`, body: GOOD },
        { name: `blobs/${sha256(big)}`, body: wrong },
      ],
    });
    await expectRefused(bundle, storage, 'EBLOB');
    expect(
      await storage.stat(`blobs/sha256/${sha256(big).slice(0, 2)}/${sha256(big)}`),
    ).toBeUndefined();
    const temps: string[] = [];
    for await (const key of storage.list('tmp/')) temps.push(key);
    expect(temps).toEqual([]);
  });

  it('refuses an index that references a blob neither the bundle nor the repository has', async () => {
    const { bundleDir, storage } = await fresh();
    const other = Buffer.from('another package\n');
    const records = indexFor([GOOD, other]).filter(
      (r) => !(r.type === 'blob' && r.sha256 === sha256(other)),
    );
    const bundle = await craftBundle(bundleDir, {
      indexRecords: records,
      entries: [{ name: `blobs/${sha256(GOOD)}`, body: GOOD }],
    });
    const attempt = importBundle({ manifestPath: bundle.manifestPath, storage });
    await expect(attempt).rejects.toMatchObject({ code: 'EMISSING', exitCode: 4 });
    await expect(attempt).rejects.toThrow(sha256(other));
    expect(await publishedKeys(storage)).toEqual([]);
  });

  it('refuses an index whose entry and blob record disagree on a size', async () => {
    const { bundleDir, storage } = await fresh();
    const records = indexFor([GOOD]).map((r) =>
      r.type === 'blob' ? { ...r, size: r.size + 1 } : r,
    );
    const bundle = await craftBundle(bundleDir, {
      indexRecords: records,
      entries: [{ name: `blobs/${sha256(GOOD)}`, body: GOOD }],
    });
    await expectRefused(bundle, storage);
  });
});
