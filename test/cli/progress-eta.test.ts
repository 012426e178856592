/** The progress bar's ETA (issue 19, frictions): never "NFs", "NaN" or "Infinity". */
import { describe, expect, it } from 'vitest';
import { formatEta } from '../../src/cli/output.js';

describe('the ETA of a progress bar', () => {
  it('says "-" until there is a pace to go by', () => {
    expect(formatEta(0, 100, 0)).toBe('-');
    expect(formatEta(0, 100, 12)).toBe('-');
    expect(formatEta(5, 100, 0)).toBe('-');
    expect(formatEta(0, 0, 3)).toBe('-');
  });

  it('estimates from the average pace, in seconds, minutes or hours', () => {
    expect(formatEta(50, 100, 10)).toBe('10s');
    expect(formatEta(10, 100, 10)).toBe('1m30s');
    expect(formatEta(1, 1000, 10)).toBe('2h46m');
    expect(formatEta(100, 100, 10)).toBe('0s');
  });

  it('never prints an infinite or undefined estimate', () => {
    for (const [done, total, secs] of [
      [1e-9, 1e12, 1e6],
      [Number.NaN, 10, 1],
      [3, Number.POSITIVE_INFINITY, 1],
    ] as const) {
      expect(formatEta(done, total, secs)).not.toMatch(/NF|NaN|Infinity/);
    }
  });
});
