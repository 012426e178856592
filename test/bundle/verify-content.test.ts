/**
 * `verify` refuses everything `import` refuses for the bundle's own content: both go through
 * the one reader (readBundle with IndexContent), so each crafted bundle here, with valid part
 * hashes and SHA256SUMS, is refused by both with exit 4 and the same code.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IndexRecord } from '../../src/bundle/index-records.js';
import { verifyBundle } from '../../src/bundle/verify.js';
import { importBundle } from '../../src/repo/import.js';
import { openStorage } from '../../src/repo/open-storage.js';
import { runAirlock } from '../helpers/cli.js';
import { craftBundle, indexFor, sha256, type CraftedBundle } from '../helpers/craft-bundle.js';
import { caught } from './bundle-fixture.js';

let dir: string;
let n = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-verify-content-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const GOOD = Buffer.from('a good package\n');
const OTHER = Buffer.from('another package\n');

async function craft(records: IndexRecord[], carried: Buffer[]): Promise<CraftedBundle> {
  const out = join(dir, `b${n++}`);
  await mkdir(out);
  return craftBundle(out, {
    indexRecords: records,
    entries: carried.map((body) => ({ name: `blobs/${sha256(body)}`, body })),
  });
}

/** A full bundle whose index names OTHER but carries only GOOD (the reported case). */
function uncarried(): Promise<CraftedBundle> {
  const records = indexFor([GOOD, OTHER]).filter(
    (r) => !(r.type === 'blob' && r.sha256 === sha256(OTHER)),
  );
  return craft(records, [GOOD]);
}

const CASES: [string, () => Promise<CraftedBundle>, string][] = [
  ['a full bundle whose index names a blob it does not carry', uncarried, 'EMISSING'],
  [
    'an entry and its blob record that disagree on the size',
    () =>
      craft(
        indexFor([GOOD]).map((r) => (r.type === 'blob' ? { ...r, size: r.size + 1 } : r)),
        [GOOD],
      ),
    'ESIZE',
  ],
  [
    "a snapshot record whose bytes are not its entries' sum",
    () =>
      craft(
        indexFor([GOOD]).map((r) => (r.type === 'snapshot' ? { ...r, bytes: r.bytes + 1 } : r)),
        [GOOD],
      ),
    'ESIZE',
  ],
  [
    'a snapshot record whose distribution is not a string (readers would refuse its document)',
    () =>
      craft(
        indexFor([GOOD]).map((r) =>
          r.type === 'snapshot' ? { ...r, distribution: 5 as unknown as string } : r,
        ),
        [GOOD],
      ),
    'EUNSAFE',
  ],
  [
    'an entry with a malformed upstream hash',
    () =>
      craft(
        indexFor([GOOD]).map((r) =>
          r.type === 'entry'
            ? {
                ...r,
                provenance: {
                  ...r.provenance,
                  upstreamHash: { algorithm: 'crc32', value: 'zz' },
                },
              }
            : r,
        ) as IndexRecord[],
        [GOOD],
      ),
    'EUNSAFE',
  ],
];

describe('verify refuses what import refuses', { timeout: 30_000 }, () => {
  it.each(CASES)('%s', async (_name, make, code) => {
    const bundle = await make();
    const verifyErr = await caught(() => verifyBundle(bundle.manifestPath));
    expect(verifyErr).toMatchObject({ exitCode: 4, code });
    const storage = await openStorage(join(dir, `repo${n++}`), { create: true });
    const importErr = await caught(() =>
      importBundle({ manifestPath: bundle.manifestPath, storage }),
    );
    expect(importErr).toMatchObject({ exitCode: 4, code });
  });

  it('`airlock verify` exits 4 on a bundle whose index names a blob it does not carry', async () => {
    const bundle = await uncarried();
    const r = await runAirlock(['verify', bundle.manifestPath]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(sha256(OTHER));
    expect(r.stderr).toContain('does not carry');
  });

  it('still verifies the well-formed bundle these are variations of', async () => {
    const bundle = await craft(indexFor([GOOD, OTHER]), [GOOD, OTHER]);
    await expect(verifyBundle(bundle.manifestPath)).resolves.toMatchObject({
      blobs: 2,
      blobsFromParent: 0,
    });
  });
});
