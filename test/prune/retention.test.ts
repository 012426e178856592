import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/prune/duration.js';
import { parseRetention, selectSnapshots, type Candidate } from '../../src/prune/retention.js';

const snaps: Candidate[] = [
  { source: 'cran', snapshot: '2026-11-01', eligible: true },
  { source: 'cran', snapshot: '2026-11-03', eligible: true },
  { source: 'cran', snapshot: '2026-11-02', eligible: true },
  { source: 'cran', snapshot: '2026-11-04', eligible: false },
  { source: 'pypi', snapshot: '2026-11-01', eligible: true },
];

function dropped(input: Parameters<typeof parseRetention>[0]): string[] {
  return selectSnapshots(snaps, parseRetention(input)).drop.map(
    (d) => `${d.candidate.source}/${d.candidate.snapshot}:${d.reason}`,
  );
}

describe('which snapshots prune selects', () => {
  it('--keep N keeps the newest N complete snapshots of each source', () => {
    expect(dropped({ keep: 1 })).toEqual(['cran/2026-11-01:keep', 'cran/2026-11-02:keep']);
    expect(dropped({ keep: 2 })).toEqual(['cran/2026-11-01:keep']);
  });

  it('--before DATE never takes the newest of a source', () => {
    expect(dropped({ before: '2026-11-03' })).toEqual([
      'cran/2026-11-01:before',
      'cran/2026-11-02:before',
    ]);
    expect(dropped({ before: '2027-01-01' })).toEqual([
      'cran/2026-11-01:before',
      'cran/2026-11-02:before',
    ]);
  });

  it('--keep with --before removes only what both select', () => {
    expect(dropped({ keep: 2, before: '2026-11-03' })).toEqual(['cran/2026-11-01:before']);
  });

  it('--snapshot names one source snapshot, or an id in every source, even the newest or unfinished', () => {
    expect(dropped({ snapshot: ['2026-11-01'] })).toEqual([
      'cran/2026-11-01:named',
      'pypi/2026-11-01:named',
    ]);
    expect(dropped({ snapshot: ['cran/2026-11-04'] })).toEqual(['cran/2026-11-04:named']);
    const { unmatched } = selectSnapshots(snaps, parseRetention({ snapshot: ['cran/1999-01-01'] }));
    expect(unmatched.map((n) => n.text)).toEqual(['cran/1999-01-01']);
  });

  it('refuses no selector, --keep 0, a bad date and a bad name (usage errors)', () => {
    for (const input of [
      {},
      { keep: 0 },
      { keep: 1.5 },
      { before: '2026-13-01' },
      { before: 'yesterday' },
      { snapshot: ['a/b/c'] },
      { snapshot: ['../x'] },
    ]) {
      expect(() => parseRetention(input), JSON.stringify(input)).toThrow(
        expect.objectContaining({ code: 'EUSAGE' }),
      );
    }
  });
});

describe('--grace durations', () => {
  it('reads units and 0, and refuses a bare number', () => {
    expect(parseDuration('24h', '--grace')).toBe(86_400_000);
    expect(parseDuration('7d', '--grace')).toBe(7 * 86_400_000);
    expect(parseDuration('90m', '--grace')).toBe(5_400_000);
    expect(parseDuration('0', '--grace')).toBe(0);
    expect(() => parseDuration('24', '--grace')).toThrow(
      expect.objectContaining({ code: 'EUSAGE' }),
    );
  });
});
