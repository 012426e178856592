/**
 * The repair procedure, through the real CLI on both backends: blobs deleted, truncated and
 * changed in place in a real repository; `check --deep` names the bundle that carried each
 * one; `import MANIFEST --repair` of those bundles rewrites exactly the damaged ones; and
 * `check --deep` passes again. A plain re-import stays a no-op that points at --repair.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRepo } from '../../src/repo/check.js';
import { importBundle } from '../../src/repo/import.js';
import { blobKey, snapshotDocumentKey } from '../../src/repo/layout.js';
import { readPublished } from '../../src/repo/published.js';
import { openStorage } from '../../src/repo/open-storage.js';
import type { Storage } from '../../src/repo/storage.js';
import { runAirlock } from '../helpers/cli.js';
import { makeBundleChain, type BundleChain } from './bundle-fixture.js';
import { S3_CREDENTIALS, startS3, type S3Fixture } from './s3rver-fixture.js';

let dir: string;
let chain: BundleChain;
let s3: S3Fixture;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-repair-'));
  chain = await makeBundleChain(dir);
  s3 = await startS3();
}, 60_000);
afterAll(async () => {
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
}, 60_000);

const S3_ENV = {
  AWS_ACCESS_KEY_ID: S3_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretAccessKey,
};

function blobOf(snapshot: string, path: string): { sha256: string; bytes: Buffer } {
  const spec = chain.files.get(snapshot)!.find((f) => f.path === path)!;
  return { sha256: createHash('sha256').update(spec.bytes).digest('hex'), bytes: spec.bytes };
}

interface Backend {
  name: string;
  repoArgs: () => string[];
  env: Record<string, string>;
  open: () => Promise<Storage>;
}

const BACKENDS: Backend[] = [
  {
    name: 'a directory',
    repoArgs: () => ['--repo', join(dir, 'repo')],
    env: {},
    open: () => openStorage(join(dir, 'repo')),
  },
  {
    name: 'S3',
    repoArgs: () => ['--repo', 's3://packages/repair', '--s3-endpoint', s3.endpoint],
    env: S3_ENV,
    open: () => s3.open('repair'),
  },
];

describe.each(BACKENDS)('repairing $name', { timeout: 120_000 }, (backend) => {
  it('check names the carrying bundles, import --repair rewrites the damage, check --deep passes', async () => {
    const run = (args: string[]) => runAirlock([...args, ...backend.repoArgs()], backend.env);
    expect((await run(['import', chain.full.manifestPath])).code).toBe(0);
    expect((await run(['import', chain.delta.manifestPath])).code).toBe(0);

    // beta and gamma came with the full bundle (and are reused by the delta's snapshot);
    // alpha 1.1 came with the delta.
    const beta = blobOf('cran/2026-11-01', 'src/contrib/beta_2.1.tar.gz');
    const gamma = blobOf('cran/2026-11-01', 'src/contrib/gamma_0.3.tar.gz');
    const alpha11 = blobOf('cran/2026-11-02', 'src/contrib/alpha_1.1.tar.gz');
    const storage = await backend.open();
    try {
      await storage.delete(blobKey(beta.sha256));
      await storage.write(blobKey(gamma.sha256), 'truncated');
      await storage.write(blobKey(alpha11.sha256), Buffer.alloc(alpha11.bytes.length, 0x42));
    } finally {
      await storage.close();
    }

    // Without --repair a re-import changes nothing, and says where to look.
    const noop = await run(['import', chain.full.manifestPath]);
    expect(noop.stdout).toContain('add --repair');

    const check = await run(['check', '--deep', '--json']);
    expect(check.code).toBe(4);
    const summary = JSON.parse(check.stdout) as {
      problems: { key: string; kind: string; bundle?: string }[];
      repairs: { bundle: string; manifest: string; blobs: number }[];
    };
    const carrier = (sha: string) => summary.problems.find((p) => p.key === blobKey(sha))?.bundle;
    expect(carrier(beta.sha256)).toBe(chain.full.id);
    expect(carrier(gamma.sha256)).toBe(chain.full.id);
    expect(carrier(alpha11.sha256)).toBe(chain.delta.id);
    expect(summary.repairs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ bundle: chain.full.id, blobs: 2 }),
        expect.objectContaining({ bundle: chain.delta.id, blobs: 1 }),
      ]),
    );
    const plain = await run(['check', '--deep']);
    expect(plain.stdout).toContain(`${chain.full.name}.manifest.json --repo`);
    expect(plain.stdout).toContain(`bundle ${chain.full.id}: 2 blob(s)`);

    const fromDelta = await run(['import', chain.delta.manifestPath, '--repair', '--json']);
    expect(fromDelta.code).toBe(0);
    expect(JSON.parse(fromDelta.stdout)).toMatchObject({
      repaired: true,
      blobsRewritten: [{ sha256: alpha11.sha256, damage: 'hash' }],
    });
    const fromFull = await run(['import', chain.full.manifestPath, '--repair', '--json']);
    expect(fromFull.code).toBe(0);
    const rewritten = (JSON.parse(fromFull.stdout) as { blobsRewritten: unknown[] }).blobsRewritten;
    expect(rewritten).toEqual(
      expect.arrayContaining([
        { sha256: beta.sha256, damage: 'missing' },
        { sha256: gamma.sha256, damage: 'size' },
      ]),
    );
    expect(rewritten).toHaveLength(2);

    const again = await run(['check', '--deep']);
    expect(again.code).toBe(0);
    const idle = await run(['import', chain.full.manifestPath, '--repair']);
    expect(idle.stdout).toContain('intact: nothing to do');
  });
});

describe('repairing a snapshot document', { timeout: 60_000 }, () => {
  it('check names the bundle of a damaged document and --repair rewrites it', async () => {
    const storage = await openStorage(join(dir, 'doc-repo'), { create: true });
    try {
      await importBundle({ manifestPath: chain.full.manifestPath, storage });
      const published = await readPublished(storage);
      const document = published!.sources.pypi!.snapshots['2026-11-01']!.document;
      const key = snapshotDocumentKey(document);
      const size = (await storage.stat(key))!.size;
      await storage.write(key, Buffer.alloc(size, 0x20));
      const check = await checkRepo(storage);
      expect(check.problems).toMatchObject([{ kind: 'document', key, bundle: chain.full.id }]);
      const repaired = await importBundle({
        manifestPath: chain.full.manifestPath,
        storage,
        repair: true,
      });
      expect(repaired).toMatchObject({
        repaired: true,
        blobsRewritten: [],
        documentsRewritten: [{ sha256: document, damage: 'hash' }],
      });
      expect(await checkRepo(storage, { deep: true })).toMatchObject({ ok: true });
    } finally {
      await storage.close();
    }
  });
});
