/**
 * CRAN's PACKAGES gives no sizes, so `--dry-run` sizes the new files with HEAD requests (as
 * many at once as --concurrency allows, with the R User-Agent of a binary variant) and the
 * plan gives bytes instead of "size not in the index".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withUpstream, type TestUpstream } from '../helpers/upstream.js';
import {
  BINARY,
  configDir,
  CRAN,
  download,
  planJson,
  type SourcePlanJson,
} from '../select-download/plan-harness.js';

let t: TestUpstream;
beforeAll(async () => {
  t = await withUpstream({ scale: { smallFiles: 1, smallMin: 100, smallMax: 200 } });
}, 120_000);
afterAll(async () => t?.close());

describe('dry-run sizes of CRAN files', () => {
  it('are learnt with HEAD requests, per variant, and match what the run fetches', async () => {
    const dir = configDir(t, '', [CRAN(), BINARY('    r: ["4.3", "4.4"]\n    packages: [airA]\n')]);
    t.upstream.resetLog();
    const json = await planJson(dir);
    const plans = new Map(
      json.sources.map((s) => [s.source, s as SourcePlanJson & { unknownSizes: number }]),
    );
    for (const name of ['cran', 'cran-jammy']) {
      const plan = plans.get(name)!;
      expect(plan.unknownSizes, name).toBe(0);
      expect(plan.bytes, name).toBeGreaterThan(0);
      expect(plan.list.every((f) => typeof f.size === 'number' && f.size > 0)).toBe(true);
      expect(plan.notes).toContain(
        `the index gives no sizes: ${plan.files} of ${plan.files} new files sized with HEAD requests`,
      );
    }
    const heads = t.upstream.requests.filter((r) => r.method === 'HEAD');
    expect(heads.length).toBe(plans.get('cran')!.files + plans.get('cran-jammy')!.files);
    // The binary variants are asked with the R version that selects them.
    expect(heads.some((r) => /^R \(4\.3/.test(r.userAgent ?? ''))).toBe(true);
    const plain = await download(dir, '--dry-run');
    expect(plain.stdout).not.toContain('size not in the index');

    // The real run's bytes are the sizes the dry run gave.
    const run = await download(dir, '--json');
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { sources: Array<{ source: string; bytes: number }> };
    for (const s of summary.sources) expect(s.bytes, s.source).toBe(plans.get(s.source)!.bytes);
  });
});
