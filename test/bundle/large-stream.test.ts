/**
 * Blobs and parts larger than the writer's 4 MiB slots and the reader's 1 MiB reads, and the
 * writer's re-check of the workspace's blobs (it hashes each blob as it copies it).
 */
import { createHash } from 'node:crypto';
import { open, readFile, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openBundle } from '../../src/bundle/open.js';
import { readBundle } from '../../src/bundle/read.js';
import { verifyBundle } from '../../src/bundle/verify.js';
import { writeBundle } from '../../src/bundle/write.js';
import { randomFile } from '../helpers/memory-bundle-workspace.js';
import { caught, listOut, makeFixture, type Fixture } from './bundle-fixture.js';

const PART = 3_000_000;
const big = randomFile(9_500_000);
const small = randomFile(5_000);
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let fx: Fixture;
beforeEach(async () => {
  fx = await makeFixture();
  await fx.ws.addSnapshot({ source: 'cran', snapshot: '2026-11-01' }, [
    { path: 'src/contrib/big_1.0.tar.gz', bytes: big, package: 'big', version: '1.0' },
    { path: 'src/contrib/small_1.0.tar.gz', bytes: small, package: 'small', version: '1.0' },
  ]);
});
afterEach(() => fx.cleanup());

async function bundle() {
  const result = await writeBundle({
    workspace: fx.ws,
    outDir: fx.out,
    maxPartSize: PART,
    airlockVersion: 't',
  });
  if ('nothingNew' in result) throw new Error(result.reason);
  return result;
}

describe('a blob larger than the buffers, cut into parts', () => {
  it("records each part's sha256 as the sha256 of the part's file", async () => {
    const summary = await bundle();
    expect(summary.parts).toHaveLength(Math.ceil(summary.totalBytes / PART));
    for (const p of summary.parts) {
      expect(p.sha256).toBe(sha256(await readFile(join(fx.out, p.name))));
    }
    expect(await verifyBundle(summary.manifestPath)).toMatchObject({ blobs: 2 });
  });

  it('hands every blob to the reader byte for byte', async () => {
    const summary = await bundle();
    const bodies = new Map<string, Buffer>();
    await readBundle(await openBundle(summary.manifestPath), {
      onBlob: async (record, body) => {
        const chunks: Buffer[] = [];
        for await (const chunk of body) chunks.push(chunk as Buffer);
        bodies.set(record.sha256, Buffer.concat(chunks));
      },
    });
    expect(bodies.get(sha256(big))?.equals(big)).toBe(true);
    expect(bodies.get(sha256(small))?.equals(small)).toBe(true);
  });
});

describe('a workspace blob that changed after it was downloaded', () => {
  it('fails the bundle when its bytes no longer match its sha256, leaving no part or manifest', async () => {
    const path = fx.ws.blobPath(sha256(big));
    const handle = await open(path, 'r+');
    await handle.write(Buffer.from([big[7_000_000]! ^ 0xff]), 0, 1, 7_000_000);
    await handle.close();
    const err = await caught(bundle);
    expect(err.exitCode).toBe(4);
    expect(err.message).toContain(`${path} does not match its sha256`);
    expect(await listOut(fx.out)).toEqual([]);
  });

  it('refuses a blob that shrank before writing anything', async () => {
    const path = fx.ws.blobPath(sha256(small));
    await truncate(path, 100);
    const err = await caught(bundle);
    expect(err.exitCode).toBe(5);
    expect(err.message).toContain(`${path} holds 100 bytes`);
    expect(await listOut(fx.out)).toEqual([]);
  });
});
