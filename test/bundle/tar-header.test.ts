import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  BLOCK,
  decodeHeader,
  encodeFileHeader,
  entryBytes,
  parsePaxRecords,
  paxRecord,
  USTAR_MAX_SIZE,
} from '../../src/bundle/tar-header.js';

describe('tar headers', () => {
  it('round-trips a ustar regular-file header', () => {
    const h = decodeHeader(encodeFileHeader(`blobs/${'a'.repeat(64)}`, 12345, 1_700_000_000));
    expect(h).toMatchObject({
      name: `blobs/${'a'.repeat(64)}`,
      size: 12345,
      mtime: 1_700_000_000,
      typeflag: '0',
      mode: 0o644,
      magic: 'ustar\u000000',
    });
  });

  it('detects a corrupted header by its checksum', () => {
    const block = encodeFileHeader('index.ndjson', 10, 0);
    block[3] = block[3]! ^ 1;
    expect(decodeHeader(block)).toBe('bad header checksum');
  });

  it('writes a pax size record for entries of 8 GiB and more, and GNU tar reads the size', () => {
    const size = USTAR_MAX_SIZE + 1 + 12345;
    const header = encodeFileHeader('blobs/big', size, 0);
    expect(header.length).toBe(3 * BLOCK);
    expect(entryBytes(size)).toBe(3 * BLOCK + Math.ceil(size / BLOCK) * BLOCK);
    expect(parsePaxRecords(header.subarray(BLOCK, 2 * BLOCK))?.get('size')).toBe(String(size));
    // GNU tar lists the entry (then complains that the data is missing, which is expected here).
    const listing = spawnSync('tar', ['-tv'], {
      input: Buffer.concat([header, Buffer.alloc(4 * BLOCK)]),
    });
    expect(listing.stdout.toString()).toMatch(new RegExp(`${size} .*blobs/big`));
  });

  it('counts its own digits in a pax record length', () => {
    expect(paxRecord('size', '9')).toBe('9 size=9\n');
    for (const n of [1, 89, 90, 91, 92, 93, 995]) {
      const record = paxRecord('path', 'x'.repeat(n));
      expect(Number(record.split(' ')[0])).toBe(Buffer.byteLength(record));
    }
  });
});
