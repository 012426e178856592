/**
 * A plan's files live in a scratch database, not the heap: they come back in the order they
 * were added, page after page, as often as they are read, with totals kept as they went in.
 */
import { describe, expect, it } from 'vitest';
import { PlanFiles } from '../../src/download/plan-files.js';
import type { PlannedFile } from '../../src/download/plan-types.js';

function planned(i: number): PlannedFile {
  return {
    url: `http://upstream.test/pypi/simple/p${i}/p${i}-1.0.tar.gz`,
    path: `p${i}/p${i}-1.0.tar.gz`,
    variant: '',
    role: 'package',
    reasons: i % 2 === 0 ? [] : [`p${i} (requirements.txt)`],
    ...(i % 7 === 0 ? {} : { size: 1000 + i }),
    ...(i % 3 === 0 ? { present: `sha-${i}` } : {}),
  };
}

describe('PlanFiles', () => {
  it('returns every file in order across pages, on every pass, with their totals', () => {
    const files = new PlanFiles();
    try {
      const n = 5000; // more than two read pages
      const expected = { files: 0, present: 0, bytes: 0, newBytes: 0, unknownSizes: 0 };
      for (let i = 0; i < n; i++) {
        const f = planned(i);
        files.push(f);
        expected.files++;
        if (f.size === undefined) expected.unknownSizes++;
        expected.bytes += f.size ?? 0;
        if (f.present !== undefined) expected.present++;
        else expected.newBytes += f.size ?? 0;
      }
      expect(files.length).toBe(n);
      expect(files.totals).toEqual(expected);
      for (let pass = 0; pass < 2; pass++) {
        let i = 0;
        for (const f of files) {
          expect(f).toEqual(planned(i));
          i++;
        }
        expect(i).toBe(n);
      }
    } finally {
      files.close();
    }
  });

  it('reads what was added after an earlier pass', () => {
    const files = new PlanFiles();
    try {
      files.push(planned(1));
      expect(Array.from(files, (f) => f.path)).toEqual([planned(1).path]);
      files.push(planned(2));
      expect(Array.from(files, (f) => f.path)).toEqual([planned(1).path, planned(2).path]);
    } finally {
      files.close();
      files.close(); // closing twice is harmless (a finally after an error path)
    }
  });

  it('is empty when nothing was planned', () => {
    const files = new PlanFiles();
    expect([...files]).toEqual([]);
    expect(files.totals.files).toBe(0);
    files.close();
  });
});
