/**
 * Importing real bundles into a directory repository: full, incremental, idempotent re-import,
 * a delta before its parent, and what the repository then serves (status, check --deep).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairFiles } from '../../src/bundle/keygen.js';
import { checkRepo } from '../../src/repo/check.js';
import { importBundle, type ImportEvent } from '../../src/repo/import.js';
import { blobKey } from '../../src/repo/layout.js';
import { openStorage } from '../../src/repo/open-storage.js';
import { readPublished } from '../../src/repo/published.js';
import { loadSnapshotDocument } from '../../src/repo/snapshot-document.js';
import { repoStatus } from '../../src/repo/status.js';
import type { Storage } from '../../src/repo/storage.js';
import { makeBundleChain, type BundleChain } from './bundle-fixture.js';
import { publishedKeys, repoContents } from './repo-contents.js';

let dir: string;
let chain: BundleChain;
let repos = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-import-'));
  chain = await makeBundleChain(dir, { maxPartSize: 20_000 });
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function newRepo(): Promise<Storage> {
  return openStorage(join(dir, `repo${repos++}`), { create: true });
}

describe('import into a directory', () => {
  it('imports a full bundle: blobs by hash, one document per snapshot, published last', async () => {
    const storage = await newRepo();
    const events: ImportEvent[] = [];
    const summary = await importBundle({
      manifestPath: chain.full.manifestPath,
      storage,
      onEvent: (e) => events.push(e),
    });
    expect(summary).toMatchObject({
      alreadyImported: false,
      id: chain.full.id,
      full: true,
      blobsPresent: 0,
    });
    if (summary.alreadyImported) throw new Error('unreachable');
    expect(summary.blobsStored).toBe(chain.full.blobCount);
    expect(summary.snapshots.map((s) => `${s.source}/${s.snapshot}`).sort()).toEqual([
      'cran/2026-11-01',
      'pypi/2026-11-01',
    ]);
    const published = await readPublished(storage);
    expect(published?.generation).toBe(1);
    expect(Object.keys(published!.sources).sort()).toEqual(['cran', 'pypi']);
    expect(published!.sources.pypi?.type).toBe('pypi');

    for (const spec of chain.files.get('cran/2026-11-01')!) {
      const sha = createHash('sha256').update(spec.bytes).digest('hex');
      expect((await storage.readBuffer(blobKey(sha)))?.equals(spec.bytes)).toBe(true);
    }
    const cran = published!.sources.cran!.snapshots['2026-11-01']!;
    const doc = await loadSnapshotDocument(storage, cran.document);
    expect(doc.header.descriptor).toMatchObject({
      source: 'cran',
      type: 'cran',
      servedTemplate: 'cran/{snapshot}',
    });
    const paths = chain.files.get('cran/2026-11-01')!.map((f) => f.path);
    expect(doc.entries.map((e) => e.path).sort()).toEqual(paths.sort());
    expect(events.at(-1)).toMatchObject({ type: 'published', generation: 1, changed: true });
    expect(await checkRepo(storage, { deep: true })).toMatchObject({ ok: true, problems: [] });
  });

  it('imports a delta after its parent: only new blobs stored, both snapshots served', async () => {
    const storage = await newRepo();
    await importBundle({ manifestPath: chain.full.manifestPath, storage });
    const summary = await importBundle({ manifestPath: chain.delta.manifestPath, storage });
    if (summary.alreadyImported) throw new Error('expected an import');
    expect(summary.parent).toBe(chain.full.id);
    expect(summary.blobsStored).toBe(2); // the new PACKAGES and alpha 1.1
    expect(summary.generation).toBe(2);
    const status = await repoStatus(storage);
    const cran = status.sources.find((s) => s.name === 'cran')!;
    expect(cran.latest).toBe('2026-11-02');
    expect(cran.snapshots.map((s) => [s.id, s.entries, s.bundle])).toEqual([
      ['2026-11-01', 4, chain.full.id],
      ['2026-11-02', 5, chain.delta.id],
    ]);
    const bytes = chain.files.get('cran/2026-11-02')!.reduce((n, f) => n + f.bytes.length, 0);
    expect(cran.snapshots[1]!.bytes).toBe(bytes);
    expect(status.bundles.map((b) => [b.id, b.parent])).toEqual([
      [chain.full.id, null],
      [chain.delta.id, chain.full.id],
    ]);
    expect(status.lock).toBeUndefined();
    const check = await checkRepo(storage, { deep: true });
    expect(check).toMatchObject({ ok: true, snapshots: 3 });
  });

  it('re-importing an imported bundle is a quick no-op that says so and changes nothing', async () => {
    const storage = await newRepo();
    await importBundle({ manifestPath: chain.full.manifestPath, storage });
    const before = await repoContents(storage);
    const events: ImportEvent[] = [];
    const again = await importBundle({
      manifestPath: chain.full.manifestPath,
      storage,
      onEvent: (e) => events.push(e),
    });
    expect(again).toMatchObject({ alreadyImported: true, id: chain.full.id });
    // The trust report comes first on every import: an open repository says so even here.
    expect(events.map((e) => e.type)).toEqual(['trust', 'already-imported']);
    expect(await repoContents(storage)).toEqual(before);
  });

  it('refuses a delta whose parent was never imported, naming the parent and the order', async () => {
    const storage = await newRepo();
    const attempt = importBundle({ manifestPath: chain.delta.manifestPath, storage });
    await expect(attempt).rejects.toMatchObject({ code: 'EPARENT', exitCode: 4 });
    const err = (await attempt.catch((e: unknown) => e)) as { message: string; hint: string };
    expect(err.message).toContain(chain.full.id);
    expect(err.hint).toBe(
      `import in this order: ${chain.full.manifestPath}, then ${chain.delta.manifestPath}`,
    );
    expect(await publishedKeys(storage)).toEqual([]);
  });

  it("refuses an unsigned bundle when the repository's policy requires signatures", async () => {
    const storage = await newRepo();
    const keys = await generateKeyPairFiles(join(dir, `key${repos}`));
    const trustedKeys = [await readFile(keys.publicKeyPath, 'utf8')];
    const policy = {
      format: 1,
      createdAt: new Date().toISOString(),
      policy: { requireSignature: true, trustedKeys },
    };
    await storage.write('airlock-repository.json', JSON.stringify(policy));
    const attempt = importBundle({ manifestPath: chain.full.manifestPath, storage });
    await expect(attempt).rejects.toMatchObject({ exitCode: 4 });
    expect(await publishedKeys(storage)).toEqual([]);
  });

  it('refuses a bundle whose part was damaged on the disk, publishing nothing', async () => {
    const damaged = join(dir, 'damaged');
    const copy = await makeBundleChain(damaged, { maxPartSize: 20_000 });
    const part = join(damaged, 'usb', copy.full.parts[1]!.name);
    const bytes = await readFile(part);
    bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff;
    await writeFile(part, bytes);
    const storage = await newRepo();
    const attempt = importBundle({ manifestPath: copy.full.manifestPath, storage });
    await expect(attempt).rejects.toMatchObject({ exitCode: 4 });
    await expect(attempt).rejects.toThrow(copy.full.parts[1]!.name);
    expect(await publishedKeys(storage)).toEqual([]);
  });
});
