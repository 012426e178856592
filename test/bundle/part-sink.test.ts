import { createHash } from 'node:crypto';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PartHasher } from '../../src/bundle/part-hasher.js';
import { PartSink } from '../../src/bundle/part-sink.js';
import { randomFile } from '../helpers/memory-bundle-workspace.js';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let dir: string;
let hasher: PartHasher;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-part-sink-'));
  hasher = new PartHasher();
});
afterEach(async () => {
  await hasher.close();
  await rm(dir, { recursive: true, force: true });
});

/** Whether this file system takes O_DIRECT at all (tmpfs before Linux 6.6 does not). */
function directSupported(): boolean {
  const flag = (constants as { O_DIRECT?: number }).O_DIRECT;
  if (flag === undefined) return false;
  try {
    closeSync(openSync(join(dir, 'probe'), constants.O_WRONLY | constants.O_CREAT | flag));
    return true;
  } catch {
    return false;
  }
}

/** Feeds `stream` through a sink the way the tar producer does: in place and by copy. */
async function writeThrough(stream: Buffer, limit: number, directIo: boolean) {
  const count = Math.ceil(stream.length / limit);
  const names = Array.from({ length: count }, (_, i) => `b.part${String(i + 1).padStart(3, '0')}`);
  const sink = await PartSink.create({
    dir,
    names,
    limit,
    hasher,
    directIo,
    onPart: () => undefined,
    onBytes: () => undefined,
  });
  const usedDirect = sink.direct;
  let at = 0;
  // Odd-sized pieces, half read in place (room/commit), half copied (write).
  for (let i = 0; at < stream.length; i++) {
    const n = Math.min(stream.length - at, 1 + ((i * 7919) % 3_000_000));
    if (i % 2 === 0) {
      await sink.write(stream.subarray(at, at + n));
      at += n;
      continue;
    }
    for (const end = at + n; at < end;) {
      let room = sink.room();
      if (room.length === 0) {
        await sink.advance();
        room = sink.room();
      }
      const k = Math.min(room.length, end - at);
      stream.copy(room, 0, at, at + k);
      sink.commit(k);
      at += k;
    }
  }
  const parts = await sink.finish();
  return { parts, usedDirect, names };
}

describe('the part sink', () => {
  for (const directIo of [true, false]) {
    it(`cuts the stream into parts byte for byte with their sha256 (${directIo ? 'direct I/O where supported' : 'buffered writes'})`, async () => {
      // 4 GiB - 1 style limits: not a multiple of any block, so parts end mid-block.
      const stream = randomFile(21_000_001);
      const limit = 9_000_001;
      const { parts, usedDirect, names } = await writeThrough(stream, limit, directIo);
      expect(usedDirect).toBe(directIo && directSupported());
      expect(parts.map((p) => p.name)).toEqual(names);
      const files = await Promise.all(names.map((n) => readFile(join(dir, n))));
      expect(Buffer.concat(files).equals(stream)).toBe(true);
      expect(files.map((f) => f.length)).toEqual([limit, limit, stream.length - 2 * limit]);
      expect(parts.map((p) => p.sha256)).toEqual(files.map(sha256));
      expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });
  }

  it('writes a stream shorter than one block (the probe for direct I/O leaves nothing behind)', async () => {
    const stream = randomFile(1536);
    const { parts, names } = await writeThrough(stream, stream.length, true);
    const file = await readFile(join(dir, names[0]!));
    expect(file.equals(stream)).toBe(true);
    expect(parts[0]!.sha256).toBe(sha256(stream));
  });

  it('writes parts whose limit is a whole number of slots, ending exactly on a part boundary', async () => {
    const limit = 8 * 1024 * 1024;
    const stream = randomFile(2 * limit);
    const { parts, names } = await writeThrough(stream, limit, true);
    const files = await Promise.all(names.map((n) => readFile(join(dir, n))));
    expect(Buffer.concat(files).equals(stream)).toBe(true);
    expect(parts.map((p) => p.size)).toEqual([limit, limit]);
  });

  it('never gives a part its final name when the check of one of its slots fails', async () => {
    const sink = await PartSink.create({
      dir,
      names: ['b.tar'],
      limit: 3000,
      hasher,
      // The verdict arrives after the part's bytes are written, as a slow worker's would.
      checkSlot: () =>
        new Promise((_, reject) => setTimeout(() => reject(new Error('blob rotted')), 300)),
      onPart: () => undefined,
      onBytes: () => undefined,
    });
    await sink.write(randomFile(3000));
    await expect(sink.finish()).rejects.toThrow('blob rotted');
    expect(await readdir(dir)).not.toContain('b.tar');
    await sink.discard();
    expect((await readdir(dir)).filter((f) => f.startsWith('b.'))).toEqual([]);
  });
});
