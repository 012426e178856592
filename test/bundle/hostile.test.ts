import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openBundle } from '../../src/bundle/open.js';
import { readBundle } from '../../src/bundle/read.js';
import { verifyBundle } from '../../src/bundle/verify.js';
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
  indexBytes,
  sha256,
  tarOf,
  wellFormed,
  type CraftedBundle,
} from '../helpers/craft-bundle.js';
import { caught } from './bundle-fixture.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-hostile-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** Reads the bundle like an importer would; returns the blobs it was handed whole. */
async function importLike(
  b: CraftedBundle,
): Promise<{ err: Error & { code?: string; exitCode?: number }; committed: string[] }> {
  const committed: string[] = [];
  const err = await caught(async () =>
    readBundle(await openBundle(b.manifestPath), {
      onBlob: async (record, body) => {
        for await (const _ of body) void _;
        committed.push(record.sha256);
      },
    }),
  );
  return { err, committed };
}

describe('hostile bundles with valid part hashes are refused by the tar and index checks', () => {
  it('the well-formed variant reads cleanly (so the refusals below are the checks at work)', async () => {
    expect(await verifyBundle((await wellFormed(dir)).manifestPath)).toMatchObject({ blobs: 1 });
  });

  const cases: [string, (d: string) => Promise<CraftedBundle>, RegExp][] = [
    ['path traversal (../evil)', hostileTraversal, /"\.\.\/evil" has a '\.\.' path segment/],
    ['absolute path (/etc/passwd)', hostileAbsolute, /"\/etc\/passwd" has an absolute path/],
    ['symbolic link', hostileSymlink, /is a symbolic link pointing to "\/etc\/passwd"/],
    ['hard link', hostileHardlink, /is a hard link pointing to "\.\.\/\.\.\/etc\/shadow"/],
    ['device', hostileDevice, /is a character device/],
    ['entry larger than the index says', hostileOversized, /is 4111 bytes but the index says 15/],
    ['entry not listed in the index', hostileUnlisted, /is not listed in the index/],
  ];
  for (const [what, build, message] of cases) {
    it(`refuses ${what} with EUNSAFE and exit 4`, async () => {
      const { err, committed } = await importLike(await build(dir));
      expect(err).toMatchObject({ code: 'EUNSAFE', exitCode: 4 });
      expect(err.message).toMatch(message);
      expect(committed).toEqual([]);
    });
  }

  it('refuses a blob whose bytes do not match the index, erroring its body', async () => {
    const good = Buffer.from('good');
    const b = await craftBundle(dir, {
      indexRecords: indexFor([good]),
      entries: [{ name: `blobs/${sha256(good)}`, body: Buffer.from('evil') }],
    });
    const { err, committed } = await importLike(b);
    expect(err).toMatchObject({ code: 'EBLOB', exitCode: 4 });
    expect(committed).toEqual([]);
  });

  it('refuses an index that is not the first entry', async () => {
    const good = Buffer.from('good');
    const records = indexFor([good]);
    const tar = tarOf([
      { name: `blobs/${sha256(good)}`, body: good },
      { name: 'index.ndjson', body: indexBytes(records) },
    ]);
    const { err } = await importLike(
      await craftBundle(dir, { indexRecords: records, tarBytes: tar }),
    );
    expect(err).toMatchObject({
      code: 'EUNSAFE',
      message: expect.stringContaining('not index.ndjson'),
    });
  });

  it('refuses data after the end-of-archive blocks', async () => {
    const good = Buffer.from('good');
    const records = indexFor([good]);
    const tar = Buffer.concat([
      tarOf([
        { name: 'index.ndjson', body: indexBytes(records) },
        { name: `blobs/${sha256(good)}`, body: good },
      ]),
      Buffer.from('x'.repeat(512)),
    ]);
    const { err } = await importLike(
      await craftBundle(dir, { indexRecords: records, tarBytes: tar }),
    );
    expect(err).toMatchObject({
      code: 'EUNSAFE',
      message: expect.stringContaining('data after the end of the archive'),
    });
  });

  it('refuses an unknown index record type and an unsafe entry path', async () => {
    const good = Buffer.from('good');
    const records = indexFor([good]);
    const unknown = [...records];
    unknown.splice(2, 0, { type: 'script', run: 'rm -rf /' } as never);
    let r = await importLike(
      await craftBundle(dir, {
        indexRecords: unknown,
        entries: [{ name: `blobs/${sha256(good)}`, body: good }],
      }),
    );
    expect(r.err).toMatchObject({
      code: 'EUNSAFE',
      message: expect.stringContaining('unknown record type "script"'),
    });

    await rm(dir, { recursive: true });
    dir = await mkdtemp(join(tmpdir(), 'airlock-hostile-'));
    const traversal = records.map((x) =>
      x.type === 'entry' ? { ...x, path: '../../../etc/cron.d/x' } : x,
    );
    r = await importLike(
      await craftBundle(dir, {
        indexRecords: traversal,
        entries: [{ name: `blobs/${sha256(good)}`, body: good }],
      }),
    );
    expect(r.err).toMatchObject({
      code: 'EUNSAFE',
      message: expect.stringContaining('unsafe path'),
    });
  });

  it('refuses pax headers with keys other than size, path and mtime', async () => {
    const good = Buffer.from('good');
    const b = await craftBundle(dir, {
      indexRecords: indexFor([good]),
      entries: [{ name: `blobs/${sha256(good)}`, body: good, pax: { linkpath: '/etc/passwd' } }],
    });
    const { err } = await importLike(b);
    expect(err).toMatchObject({
      code: 'EUNSAFE',
      message: expect.stringContaining('pax header key "linkpath"'),
    });
  });
});
