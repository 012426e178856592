import { describe, expect, it } from 'vitest';
import { firstDue, type PendingKey } from '../../src/repo/prune-record.js';

describe('prune.json pending keys', () => {
  it('finds when the first of 200,000 waiting keys is due (a spread of them overflowed the stack)', () => {
    const base = Date.parse('2026-11-04T00:00:00Z');
    const pending: [string, PendingKey][] = [];
    for (let i = 0; i < 200_000; i++) {
      pending.push([`k${i}`, { since: new Date(base + (i % 1000) * 1000).toISOString(), size: 1 }]);
    }
    expect(firstDue(pending, 3_600_000)).toBe('2026-11-04T01:00:00.000Z');
    expect(firstDue([], 3_600_000)).toBeUndefined();
  });
});
