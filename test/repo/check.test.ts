/**
 * `check` proves a repository consistent and names what is wrong when it is not: a missing
 * blob, a blob of the wrong size, a blob whose bytes changed (found only by --deep), a damaged
 * snapshot document. `status` and `check` refuse a location that is not a repository.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRepo } from '../../src/repo/check.js';
import { importBundle } from '../../src/repo/import.js';
import { blobKey, snapshotDocumentKey } from '../../src/repo/layout.js';
import { openStorage } from '../../src/repo/open-storage.js';
import { readPublished } from '../../src/repo/published.js';
import { repoStatus } from '../../src/repo/status.js';
import type { Storage } from '../../src/repo/storage.js';
import { makeBundleChain, type BundleChain } from './bundle-fixture.js';

let dir: string;
let chain: BundleChain;
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-check-'));
  chain = await makeBundleChain(dir);
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function importedRepo(): Promise<{
  storage: Storage;
  root: string;
  blob: string;
  size: number;
}> {
  const root = join(dir, `repo${n++}`);
  const storage = await openStorage(root, { create: true });
  await importBundle({ manifestPath: chain.full.manifestPath, storage });
  const spec = chain.files.get('cran/2026-11-01')![2]!; // beta: only in this snapshot's bundle
  const blob = createHash('sha256').update(spec.bytes).digest('hex');
  return { storage, root, blob, size: spec.bytes.length };
}

describe('check', { timeout: 30_000 }, () => {
  it('finds a missing blob and names it and the snapshot that needs it', async () => {
    const { storage, blob } = await importedRepo();
    await storage.delete(blobKey(blob));
    const result = await checkRepo(storage);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      {
        kind: 'missing',
        key: blobKey(blob),
        snapshot: 'cran/2026-11-01',
        detail: 'needed by src/contrib/beta_2.1.tar.gz',
        bundle: chain.full.id,
      },
    ]);
    expect(result.repairs).toEqual([
      {
        bundle: chain.full.id,
        manifest: `${chain.full.name}.manifest.json`,
        blobs: 1,
        documents: 0,
      },
    ]);
  });

  it('finds a truncated blob by its size without --deep', async () => {
    const { storage, root, blob } = await importedRepo();
    await writeFile(join(root, blobKey(blob)), 'short');
    const result = await checkRepo(storage);
    expect(result.problems).toMatchObject([{ kind: 'size', key: blobKey(blob) }]);
  });

  it('finds changed bytes of the same size only with --deep', async () => {
    const { storage, root, blob, size } = await importedRepo();
    await writeFile(join(root, blobKey(blob)), Buffer.alloc(size, 0x42));
    expect((await checkRepo(storage)).ok).toBe(true);
    const deep = await checkRepo(storage, { deep: true });
    expect(deep.ok).toBe(false);
    expect(deep.problems).toMatchObject([{ kind: 'hash', key: blobKey(blob) }]);
  });

  it('finds a damaged snapshot document', async () => {
    const { storage, root } = await importedRepo();
    const published = await readPublished(storage);
    const document = published!.sources.cran!.snapshots['2026-11-01']!.document;
    await writeFile(join(root, snapshotDocumentKey(document)), '{"type":"snapshot"}\n');
    const result = await checkRepo(storage);
    expect(result.problems).toMatchObject([
      { kind: 'document', key: snapshotDocumentKey(document), snapshot: 'cran/2026-11-01' },
    ]);
  });

  it('accepts an intact repository and counts what it checked', async () => {
    const { storage } = await importedRepo();
    const result = await checkRepo(storage, { deep: true });
    expect(result).toMatchObject({ ok: true, snapshots: 2, checkedBlobs: chain.full.blobCount });
    expect(result.checkedBytes).toBe(chain.full.blobBytes);
  });

  it('status and check refuse a directory that is not a repository, and a missing one', async () => {
    const empty = await openStorage(await mkdtemp(join(dir, 'empty-')));
    await expect(checkRepo(empty)).rejects.toMatchObject({ exitCode: 2 });
    await expect(repoStatus(empty)).rejects.toThrow('is not an airlock repository');
    await expect(openStorage(join(dir, 'missing'))).rejects.toThrow('does not exist');
  });
});
