import { mkdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateKeyPairFiles } from '../../src/bundle/keygen.js';
import { openBundle } from '../../src/bundle/open.js';
import { readBundle } from '../../src/bundle/read.js';
import { verifyBundle } from '../../src/bundle/verify.js';
import { writeBundle } from '../../src/bundle/write.js';
import type { BundleSummary, BundleEvent } from '../../src/bundle/events.js';
import type { IndexRecord } from '../../src/bundle/index-records.js';
import { addFirstSnapshot, listOut, makeFixture, type Fixture } from './bundle-fixture.js';

let fx: Fixture;
beforeEach(async () => {
  fx = await makeFixture();
  await addFirstSnapshot(fx.ws);
});
afterEach(() => fx.cleanup());

async function bundle(
  extra: Partial<Parameters<typeof writeBundle>[0]> = {},
): Promise<BundleSummary> {
  const result = await writeBundle({
    workspace: fx.ws,
    outDir: fx.out,
    airlockVersion: '0.1.0-test',
    ...extra,
  });
  if ('nothingNew' in result) throw new Error(result.reason);
  return result;
}

describe('bundle round trip', () => {
  it('writes a single NAME.tar with manifest, SHA256SUMS and contents, and verifies it', async () => {
    const events: BundleEvent[] = [];
    const summary = await bundle({ onEvent: (e) => events.push(e) });
    expect(summary.parts.map((p) => p.name)).toEqual([`${summary.name}.tar`]);
    expect(await listOut(fx.out)).toEqual(
      [
        'SHA256SUMS',
        `${summary.name}.contents.txt`,
        `${summary.name}.manifest.json`,
        `${summary.name}.tar`,
      ].sort(),
    );
    expect(summary.full).toBe(true);
    expect(summary.blobCount).toBe(4);
    expect((await stat(join(fx.out, `${summary.name}.tar`))).size).toBe(summary.totalBytes);
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['plan', 'start', 'part', 'done']),
    );
    expect(fx.ws.bundles.map((b) => b.info.id)).toEqual([summary.id]);

    const verified = await verifyBundle(summary.manifestPath);
    expect(verified).toMatchObject({
      id: summary.id,
      parent: null,
      blobs: 4,
      entries: 4,
      signature: 'unsigned',
      parts: 1,
    });
  });

  it('carries every entry with its provenance in the index and every blob byte for byte', async () => {
    const summary = await bundle();
    const opened = await openBundle(summary.manifestPath);
    const records: IndexRecord[] = [];
    const blobs = new Map<string, Buffer>();
    const result = await readBundle(opened, {
      onRecord: (r) => void records.push(r),
      onBlob: async (record, body) => {
        const chunks: Buffer[] = [];
        for await (const c of body) chunks.push(c as Buffer);
        blobs.set(record.sha256, Buffer.concat(chunks));
      },
    });
    expect(result).toMatchObject({ blobs: 4, records: 1 + 1 + 4 + 4 });
    expect(records[0]).toMatchObject({ type: 'bundle', id: summary.id, parent: null, full: true });
    expect(records[1]).toMatchObject({
      type: 'snapshot',
      source: 'cran',
      snapshot: '2026-11-01',
      sourceType: 'cran',
      entries: 4,
    });
    const entry = records.find((r) => r.type === 'entry' && r.path === 'src/contrib/b_2.1.tar.gz');
    expect(entry).toMatchObject({
      package: 'b',
      version: '2.1',
      provenance: { url: expect.stringContaining('b_2.1.tar.gz'), fetchedAt: expect.any(String) },
    });
    for (const e of fx.ws.entries({ source: 'cran', snapshot: '2026-11-01' })) {
      expect(blobs.get(e.sha256)).toEqual(await readFile(fx.ws.blobPath(e.sha256)));
    }
  });

  it('signs the manifest with --sign-key and verifies under --trust', async () => {
    const keys = await generateKeyPairFiles(join(fx.root, 'airlock'));
    expect((await stat(keys.privateKeyPath)).mode & 0o777).toBe(0o600);
    const summary = await bundle({ signKeyPath: keys.privateKeyPath });
    expect(summary.signed).toBe(true);
    const sums = await readFile(join(fx.out, 'SHA256SUMS'), 'utf8');
    expect(sums).toContain(`  ${summary.name}.manifest.json.sig`);
    expect(await verifyBundle(summary.manifestPath, { trust: keys.publicKeyPath })).toMatchObject({
      signature: 'verified',
    });
    expect(await verifyBundle(summary.manifestPath)).toMatchObject({ signature: 'unchecked' });
  });

  it('writes a contents listing with package, version, file, size, sha256 and upstream URL', async () => {
    const summary = await bundle();
    const text = await readFile(join(fx.out, `${summary.name}.contents.txt`), 'utf8');
    const [entry] = [...fx.ws.entries({ source: 'cran', snapshot: '2026-11-01' })].filter(
      (e) => e.package === 'b',
    );
    expect(text).toContain('== source cran (cran), snapshot 2026-11-01');
    const line = text.split('\n').find((l) => l.includes('b_2.1.tar.gz'))!;
    expect(line).toMatch(
      /^b\s+2\.1\s+-\s+src\/contrib\/b_2\.1\.tar\.gz\s+307200\s+[0-9a-f]{64}\s+yes\s+https:\/\//,
    );
    expect(line).toContain(entry!.sha256);
    expect(text).toMatch(/total: 1 snapshot\(s\), 4 file\(s\) carried/);
  });

  it('says nothing is new and writes nothing when every snapshot was carried', async () => {
    await bundle();
    const before = await listOut(fx.out);
    const again = await writeBundle({ workspace: fx.ws, outDir: fx.out, airlockVersion: 't' });
    expect(again).toMatchObject({
      nothingNew: true,
      reason: expect.stringContaining('already carried'),
    });
    expect(await listOut(fx.out)).toEqual(before);
  });

  it('refuses an --out without the room for the bundle with exit 5, before writing anything', async () => {
    // A sparse 1 TiB blob: the check must fail on the figures, long before any byte is read.
    const size = 2 ** 40;
    const sha256 = 'f'.repeat(64);
    await mkdir(dirname(fx.ws.blobPath(sha256)), { recursive: true });
    await truncate(await touch(fx.ws.blobPath(sha256)), size);
    fx.ws.entryLists.get('cran/2026-11-01')!.push({
      path: 'src/contrib/huge_1.0.tar.gz',
      variant: '',
      role: 'package',
      sha256,
      size,
      provenance: { fetchedAt: 'x' },
    });
    const err = await writeBundle({ workspace: fx.ws, outDir: fx.out, airlockVersion: 't' }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({
      exitCode: 5,
      code: 'ENOSPC',
      message: expect.stringMatching(/free; the bundle needs 1\.0 TiB/),
    });
    expect(await listOut(fx.out)).toEqual([]);
    expect(fx.ws.bundles).toEqual([]);
  });
});

async function touch(path: string): Promise<string> {
  await writeFile(path, '');
  return path;
}
