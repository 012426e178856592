import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntegrityError } from '../../src/errors.js';
import { parseCoreMetadata, readWheelMetadata } from '../../src/upstream/core-metadata.js';

const METADATA = [
  'Metadata-Version: 2.1',
  'Name: alpha',
  'Version: 1.2.0',
  'Summary: A test',
  'License: Line one',
  '        line two',
  'Requires-Python: >=3.9',
  'Requires-Dist: beta>=1.0',
  'Requires-Dist: gamma; python_version < "3.12"',
  'Provides-Extra: fast',
  'Requires-Dist: epsilon;',
  '  extra == "fast"',
  '',
  'Requires-Dist: not-a-header (this is the description body)',
  '',
].join('\n');

describe('core metadata', () => {
  it('reads repeated headers and continuation lines, and stops at the body', () => {
    const m = parseCoreMetadata(METADATA);
    expect(m.name).toBe('alpha');
    expect(m.version).toBe('1.2.0');
    expect(m.requiresPython).toBe('>=3.9');
    expect(m.providesExtra).toEqual(['fast']);
    expect(m.requiresDist).toEqual([
      'beta>=1.0',
      'gamma; python_version < "3.12"',
      'epsilon; extra == "fast"',
    ]);
  });

  it('handles CRLF line ends and a missing Requires-Python', () => {
    const m = parseCoreMetadata('Name: beta\r\nVersion: 2.0\r\n');
    expect(m).toEqual({ name: 'beta', version: '2.0', requiresDist: [], providesExtra: [] });
  });
});

describe('readWheelMetadata', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-wheel-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // Python's zipfile writes the wheels, so the reader is checked against an independent writer.
  function makeWheel(
    name: string,
    compression: 'ZIP_DEFLATED' | 'ZIP_STORED',
    comment = '',
  ): string {
    const path = join(dir, name);
    const script = [
      'import sys, zipfile',
      `z = zipfile.ZipFile(sys.argv[1], "w", zipfile.${compression})`,
      'z.writestr("alpha/__init__.py", "x = 1\\n" * 1000)',
      'z.writestr("alpha-1.2.0.dist-info/METADATA", sys.stdin.read())',
      'z.writestr("alpha-1.2.0.dist-info/RECORD", "")',
      `z.comment = b"${comment}"`,
      'z.close()',
    ].join('\n');
    execFileSync('python3', ['-c', script, path], { input: METADATA });
    return path;
  }

  it('reads METADATA from a deflated wheel', async () => {
    const path = makeWheel('alpha-1.2.0-py3-none-any.whl', 'ZIP_DEFLATED');
    expect(await readWheelMetadata(path)).toBe(METADATA);
  });

  it('reads METADATA from a stored wheel with an archive comment', async () => {
    const path = makeWheel('alpha-1.2.0-py3-none-any-stored.whl', 'ZIP_STORED', 'a comment');
    expect(parseCoreMetadata(await readWheelMetadata(path)).name).toBe('alpha');
  });

  // METADATA written first and 300 KB of incompressible data after it: the entry lies outside
  // the tail the reader takes first, so it must be read from the file, not from that buffer.
  it('reads METADATA that lies before the last 64 KiB of a large wheel', async () => {
    const path = join(dir, 'alpha-1.2.0-py3-none-any-large.whl');
    const script = [
      'import os, sys, zipfile',
      'z = zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED)',
      'z.writestr("alpha-1.2.0.dist-info/METADATA", sys.stdin.read())',
      'z.writestr("alpha/data.bin", os.urandom(300000))',
      'z.close()',
    ].join('\n');
    execFileSync('python3', ['-c', script, path], { input: METADATA });
    expect(await readWheelMetadata(path)).toBe(METADATA);
  });

  it('refuses a file that is not a zip with an IntegrityError naming it', async () => {
    const path = join(dir, 'broken-1.0-py3-none-any.whl');
    await writeFile(path, 'not a zip file at all');
    await expect(readWheelMetadata(path)).rejects.toBeInstanceOf(IntegrityError);
    await expect(readWheelMetadata(path)).rejects.toThrow(path);
  });

  // Random bytes hold the end-of-directory signature by chance (about one file in 60 of the
  // bench's noise wheels): its sizes are then noise, up to 4 GiB, or 2^64 in a ZIP64 record.
  it('refuses a directory record that points outside the file, without allocating for it', async () => {
    const path = join(dir, 'noise-1.0-py3-none-any.whl');
    const eocd = Buffer.alloc(22);
    eocd.writeUInt32LE(0x06054b50, 0);
    eocd.writeUInt16LE(1, 10);
    eocd.writeUInt32LE(0xfffffff0, 12); // directory size: almost 4 GiB
    eocd.writeUInt32LE(0, 16);
    await writeFile(path, Buffer.concat([Buffer.alloc(1000, 7), eocd]));
    const before = process.memoryUsage().arrayBuffers;
    await expect(readWheelMetadata(path)).rejects.toThrow(/points outside the file/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);

    const zip64 = join(dir, 'noise64-1.0-py3-none-any.whl');
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(0n, 8);
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(1n, 32);
    record.writeBigUInt64LE(2n ** 62n, 40); // directory size: far beyond any Buffer
    await writeFile(zip64, Buffer.concat([record, locator, eocd]));
    await expect(readWheelMetadata(zip64)).rejects.toBeInstanceOf(IntegrityError);
  });

  it('refuses METADATA that inflates beyond 64 MiB instead of inflating it', async () => {
    const path = join(dir, 'bomb-1.0-py3-none-any.whl');
    const script = [
      'import sys, zipfile',
      'z = zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED)',
      'z.writestr("bomb-1.0.dist-info/METADATA", b"\\0" * (65 * 1024 * 1024))',
      'z.close()',
    ].join('\n');
    execFileSync('python3', ['-c', script, path]);
    await expect(readWheelMetadata(path)).rejects.toThrow(/cannot inflate METADATA/);
  });

  it('refuses a wheel without dist-info METADATA', async () => {
    const path = join(dir, 'empty-1.0-py3-none-any.whl');
    execFileSync('python3', [
      '-c',
      'import sys, zipfile; zipfile.ZipFile(sys.argv[1], "w").writestr("a.py", "")',
      path,
    ]);
    await expect(readWheelMetadata(path)).rejects.toThrow('has no *.dist-info/METADATA');
  });
});
