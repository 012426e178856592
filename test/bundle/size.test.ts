import { describe, expect, it } from 'vitest';
import { FAT32_MAX_FILE, formatSize, parseSize, partLimit } from '../../src/bundle/size.js';

describe('parseSize', () => {
  it('reads binary units, decimal units, decimals and plain bytes', () => {
    expect(parseSize('4G')).toBe(4 * 2 ** 30);
    expect(parseSize('4GiB')).toBe(4 * 2 ** 30);
    expect(parseSize('700M')).toBe(700 * 2 ** 20);
    expect(parseSize('4.7GB')).toBe(4_700_000_000);
    expect(parseSize('10K')).toBe(10240);
    expect(parseSize('1.5k')).toBe(1536);
    expect(parseSize('123')).toBe(123);
  });

  it('refuses garbage with a UsageError naming --max-part-size', () => {
    for (const bad of ['', 'G', '4Q', '-1', 'four', '0']) {
      expect(() => parseSize(bad)).toThrow(
        expect.objectContaining({
          exitCode: 2,
          message: expect.stringContaining('--max-part-size'),
        }),
      );
    }
  });
});

describe('partLimit', () => {
  it('applies exactly 4 GiB as 4 GiB − 1 so parts fit on FAT32', () => {
    expect(partLimit(parseSize('4G'))).toBe(FAT32_MAX_FILE);
    expect(partLimit(parseSize('700M'))).toBe(700 * 2 ** 20);
  });

  it('refuses parts below 10 KiB', () => {
    expect(() => partLimit(10239)).toThrow(/minimum part size/);
    expect(partLimit(10240)).toBe(10240);
  });
});

describe('formatSize', () => {
  it('shows binary units', () => {
    expect(formatSize(999)).toBe('999 B');
    expect(formatSize(1536)).toBe('1.5 KiB');
    expect(formatSize(2 ** 40)).toBe('1.0 TiB');
  });
});
