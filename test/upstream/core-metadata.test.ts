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
