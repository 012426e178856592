/**
 * The Storage contract, proven the same way against both backends: the directory backend and
 * a real S3-compatible server (s3rver on loopback).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import pLimit from 'p-limit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntegrityError } from '../../src/errors.js';
import { openStorage } from '../../src/repo/open-storage.js';
import type { Storage } from '../../src/repo/storage.js';
import { MOTO_MISSING, startMoto, whereMotoRuns } from './moto-fixture.js';
import { startS3, type S3Fixture } from './s3rver-fixture.js';

async function text(stream: Readable | undefined): Promise<string | undefined> {
  if (!stream) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

/** A body that delivers its bytes and then fails, as a bundle blob with a wrong hash does. */
function failingBody(bytes: string): Readable {
  const source = Readable.from([Buffer.from(bytes)]);
  return source.pipe(
    new Transform({
      transform: (chunk, _enc, done) => done(null, chunk),
      flush: (done) => done(new IntegrityError('sha256 mismatch', { code: 'EHASH' })),
    }),
  );
}

/** A writable that keeps a copy of what it is given, as late as a slow socket would. */
function collector(): { sink: Writable; done: Promise<Buffer> } {
  const chunks: Buffer[] = [];
  let finished: (bytes: Buffer) => void = () => {};
  const done = new Promise<Buffer>((resolve) => (finished = resolve));
  const sink = new Writable({
    write(chunk: Buffer, _enc, callback) {
      // Take the bytes only later, as a socket does: a writer that reuses a buffer before
      // the write's callback would show up as wrong bytes.
      setImmediate(() => {
        chunks.push(Buffer.from(chunk));
        callback();
      });
    },
    final(callback) {
      finished(Buffer.concat(chunks));
      callback();
    },
  });
  return { sink, done };
}

let s3: S3Fixture;
let moto: S3Fixture | undefined;
let dir: string;
let prefixes = 0;

beforeAll(async () => {
  [s3, moto] = await Promise.all([startS3(), MOTO_MISSING ? undefined : startMoto()]);
  dir = await mkdtemp(join(tmpdir(), 'airlock-storage-'));
}, 60_000);
afterAll(async () => {
  await Promise.all([s3?.close(), moto?.close()]);
  await rm(dir, { recursive: true, force: true });
});

const backends: [string, () => Promise<Storage>][] = whereMotoRuns(
  [
    ['directory', async () => openStorage(join(dir, `repo${prefixes++}`), { create: true })],
    ['s3 (s3rver)', async () => s3.open(`repo${prefixes++}`)],
    ['s3 (moto)', async () => moto!.open(`repo${prefixes++}`)],
  ],
  ([name]) => name.includes('moto'),
);

describe.each(backends)('%s storage', (_name, open) => {
  it('writes, stats, reads whole and by range, and reports missing keys as undefined', async () => {
    const storage = await open();
    await storage.write('a/b.json', '{"x":1}');
    expect(await text(await storage.read('a/b.json'))).toBe('{"x":1}');
    expect(await text(await storage.read('a/b.json', { start: 1, end: 3 }))).toBe('"x"');
    expect((await storage.readBuffer('a/b.json'))?.toString()).toBe('{"x":1}');
    expect((await storage.stat('a/b.json'))?.size).toBe(7);
    expect(await storage.stat('a/none')).toBeUndefined();
    expect(await storage.read('a/none')).toBeUndefined();
    expect(await storage.readBuffer('a/none')).toBeUndefined();
    await storage.close();
  });

  it('replaces an object on write and changes its version', async () => {
    const storage = await open();
    await storage.write('p.json', 'one');
    const first = await storage.stat('p.json');
    await new Promise((r) => setTimeout(r, 5));
    await storage.write('p.json', 'second');
    expect((await storage.readBuffer('p.json'))?.toString()).toBe('second');
    expect((await storage.stat('p.json'))?.version).not.toBe(first?.version);
    await storage.close();
  });

  it('streams a body in and stores nothing when the body fails its check', async () => {
    const storage = await open();
    await storage.writeStream('blobs/ok', Readable.from([Buffer.from('hello')]), 5);
    expect((await storage.readBuffer('blobs/ok'))?.toString()).toBe('hello');
    await expect(storage.writeStream('blobs/bad', failingBody('evil'), 4)).rejects.toThrow(
      'sha256 mismatch',
    );
    expect(await storage.stat('blobs/bad')).toBeUndefined();
    await storage.close();
  });

  it('refuses a body whose length differs from the declared size, storing nothing', async () => {
    const storage = await open();
    const short = storage.writeStream('blobs/short', Readable.from([Buffer.from('abc')]), 5);
    await expect(short).rejects.toMatchObject({ code: 'ESIZE' });
    expect(await storage.stat('blobs/short')).toBeUndefined();
    await storage.close();
  });

  it('creates exclusively: the second create of a key fails and keeps the first body', async () => {
    const storage = await open();
    expect(await storage.createExclusive('locks/l', 'first')).toBe(true);
    expect(await storage.createExclusive('locks/l', 'second')).toBe(false);
    expect((await storage.readBuffer('locks/l'))?.toString()).toBe('first');
    await storage.delete('locks/l');
    await storage.delete('locks/l');
    expect(await storage.createExclusive('locks/l', 'third')).toBe(true);
    await storage.close();
  });

  it('writes with deferNameSync are readable at once, and syncDeferred makes them durable', async () => {
    const storage = await open();
    await storage.write('blobs/sha256/cc/1', 'one', { deferNameSync: true });
    await storage.writeStream('blobs/sha256/dd/2', Readable.from([Buffer.from('two')]), 3, {
      deferNameSync: true,
    });
    expect((await storage.readBuffer('blobs/sha256/cc/1'))?.toString()).toBe('one');
    expect((await storage.readBuffer('blobs/sha256/dd/2'))?.toString()).toBe('two');
    await storage.syncDeferred?.();
    await storage.syncDeferred?.();
    expect((await storage.stat('blobs/sha256/dd/2'))?.size).toBe(3);
    await storage.close();
  });

  it('lists every key under a prefix and nothing outside it', async () => {
    const storage = await open();
    await storage.write('blobs/sha256/aa/1', 'x');
    await storage.write('blobs/sha256/bb/2', 'y');
    await storage.write('bundles/b.json', '{}');
    const keys: string[] = [];
    for await (const key of storage.list('blobs/sha256/')) keys.push(key);
    expect(keys.sort()).toEqual(['blobs/sha256/aa/1', 'blobs/sha256/bb/2']);
    const none: string[] = [];
    for await (const key of storage.list('snapshots/')) none.push(key);
    expect(none).toEqual([]);
    await storage.close();
  });

  it('lists past 1,000 keys: an S3 listing follows its continuation tokens', async () => {
    const storage = await open();
    const keys = Array.from({ length: 1_010 }, (_, i) => `many/${String(i).padStart(5, '0')}`);
    const limit = pLimit(32);
    await Promise.all(keys.map((key) => limit(() => storage.write(key, key))));
    await storage.write('manyx/outside', 'x');
    const listed: string[] = [];
    for await (const key of storage.list('many/')) listed.push(key);
    expect(listed.sort()).toEqual(keys);
    await storage.close();
  });
});

describe('directory storage specifics', () => {
  it('leaves no temp files behind after writes, and cleans up those a killed writer left', async () => {
    const root = join(dir, 'temps');
    const storage = await openStorage(root, { create: true });
    await storage.write('x.json', '1');
    await storage.writeStream('blobs/y', Readable.from([Buffer.from('22')]), 2);
    await expect(storage.writeStream('blobs/z', failingBody('333'), 3)).rejects.toThrow();
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    await storage.write('tmp/left-by-kill.tmp', 'partial');
    expect(await storage.abandonPartialWrites?.()).toBe(1);
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });

  it('copies a file into a writable whole and by range, byte for byte, again and again', async () => {
    const storage = await openStorage(join(dir, 'copy'), { create: true });
    // Several of the copy's reused buffers long, with no two buffers' worth alike.
    const bytes = Buffer.alloc(1024 * 1024 + 12344);
    for (let i = 0; i < bytes.length; i += 4) bytes.writeUInt32BE(i, i);
    await storage.write('blobs/f', bytes);
    for (let round = 0; round < 3; round++) {
      const whole = collector();
      expect(await storage.copyTo!('blobs/f', whole.sink, bytes.length)).toBe(bytes.length);
      expect((await whole.done).equals(bytes)).toBe(true);
    }
    const range = { start: 300_000, end: 1_000_000 };
    const part = collector();
    expect(await storage.copyTo!('blobs/f', part.sink, bytes.length, range)).toBe(700_001);
    expect((await part.done).equals(bytes.subarray(300_000, 1_000_001))).toBe(true);
  });

  it('copyTo reports a missing file as undefined, writing nothing, and a short one as an error', async () => {
    const storage = await openStorage(join(dir, 'copy-missing'), { create: true });
    const none = collector();
    expect(await storage.copyTo!('blobs/none', none.sink, 10)).toBeUndefined();
    expect(none.sink.writableEnded).toBe(false);
    await storage.write('blobs/short', 'abc');
    await expect(storage.copyTo!('blobs/short', collector().sink, 10)).rejects.toMatchObject({
      code: 'ESTORAGE',
    });
  });

  it('refuses a missing repository directory unless asked to create it', async () => {
    const missing = join(dir, 'does-not-exist');
    await expect(openStorage(missing)).rejects.toMatchObject({ code: 'EUSAGE' });
    await expect(openStorage(missing)).rejects.toThrow(missing);
  });

  it('refuses keys that could climb out of the repository', async () => {
    const storage = await openStorage(join(dir, 'keys'), { create: true });
    await expect(storage.write('../escape', 'x')).rejects.toThrow('not a storage key');
    await expect(storage.stat('a//b')).rejects.toThrow('not a storage key');
  });
});
