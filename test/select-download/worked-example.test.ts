/**
 * The worked example of docs/selection.md: samples/selection.yaml with samples/runtimes.yaml
 * (three Connect images, one `matching: none`) and samples/selection-requirements.txt, against
 * the fixture upstream. Also: the dry-run JSON lists exactly what the real run then fetches.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withUpstream, type TestUpstream } from '../helpers/upstream.js';
import {
  CRAN,
  configDir,
  download,
  names,
  plan,
  planJson,
  recordedFiles,
  type PlannedFileJson,
} from './plan-harness.js';

const SAMPLES = fileURLToPath(new URL('../../samples/', import.meta.url));
const IMAGE_311 = 'ghcr.io/rstudio/content-base:r4.3.3-py3.11.9-jammy';
const IMAGE_312 = 'ghcr.io/rstudio/content-base:r4.4.1-py3.12.4-jammy';

let t: TestUpstream;
beforeAll(async () => {
  t = await withUpstream();
});
afterAll(async () => t?.close());

/** The sample config, its inputs beside it, aimed at the fixture upstream. */
function sampleDir(extraSources = ''): string {
  const dir = configDir(t, '', []);
  for (const name of ['runtimes.yaml', 'selection-requirements.txt'])
    copyFileSync(join(SAMPLES, name), join(dir, name));
  const yaml = readFileSync(join(SAMPLES, 'selection.yaml'), 'utf8')
    .replace(/^upstream: .*$/m, `upstream: ${t.upstream.url}`)
    .replace(/^sources:\n/m, `sources:\n${extraSources}`);
  writeFileSync(join(dir, 'mirror.yaml'), yaml);
  return dir;
}

const distributions = (f: PlannedFileJson) => !f.path.endsWith('.metadata');
const usedBy = (env: string) => (f: PlannedFileJson) =>
  distributions(f) && f.environments.includes(env);

describe('the worked example (samples/selection.yaml + runtimes.yaml)', () => {
  it('derives R minors and Python wheel tags from the Connect images, skipping matching: none', async () => {
    const json = await planJson(sampleDir());
    expect(json.environments.map((e) => [e.name, e.python, e.r, e.libc])).toEqual([
      [IMAGE_311, '3.11.9', '4.3.3', 'glibc 2.35'],
      [IMAGE_312, '3.12.4', '4.4.1', 'glibc 2.35'],
    ]);
    expect(json.notes.join('\n')).toMatch(
      /legacy:r3\.6\.3-py3\.8\.8-bionic skipped: matching: none/,
    );
    const plans = new Map(json.sources.map((s) => [s.source, s]));
    const binary = plans.get('cran-jammy')!;
    expect(names(binary)).toEqual([
      'airA_1.0.tar.gz|R-4.3',
      'airA_1.0.tar.gz|R-4.4',
      'airB_1.0.tar.gz|R-4.3',
      'airB_1.0.tar.gz|R-4.4',
      'airC_1.0.tar.gz|R-4.3',
      'airC_1.0.tar.gz|R-4.4',
      'airD_1.0.tar.gz|R-4.3',
      'airD_1.0.tar.gz|R-4.4',
      'airF_1.0.tar.gz|R-4.3',
      'airF_1.0.tar.gz|R-4.4',
    ]);
    expect(binary.environments.map((e) => [e.name, e.files])).toEqual([
      [IMAGE_311, 5],
      [IMAGE_312, 5],
    ]);

    const pypi = plans.get('pypi')!;
    expect(names(pypi, usedBy(IMAGE_311))).toEqual([
      'alpha-1.0-py3-none-any.whl',
      'beta-1.0-py3-none-any.whl',
      'epsilon-1.0-py3-none-any.whl',
      'fastcalc-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
      'gamma-1.0-py3-none-any.whl',
      'newpy-1.0-py3-none-any.whl',
      'sdistonly-1.0.tar.gz',
    ]);
    expect(names(pypi, usedBy(IMAGE_312))).toEqual([
      'alpha-1.0-py3-none-any.whl',
      'beta-1.0-py3-none-any.whl',
      'epsilon-1.0-py3-none-any.whl',
      'fastcalc-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
      'newpy-2.0-py3-none-any.whl',
      'sdistonly-1.0.tar.gz',
    ]);
    const fastcalc = pypi.list.find((f) => f.path.includes('cp311-cp311-manylinux'))!;
    expect(fastcalc).toMatchObject({
      size: expect.any(Number),
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(fastcalc.reasons).toEqual([`${IMAGE_311}: fastcalc`]);

    const text = await download(sampleDir(), '--dry-run');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`for ${IMAGE_311}: 5 files`);
    expect(text.stdout).toContain('note: ');
    if (process.env.AIRLOCK_PRINT_EXAMPLE) console.log(text.stdout);
  });

  it('lists in the dry-run JSON exactly the files a real run then fetches, file for file', async () => {
    const dir = sampleDir(CRAN('', '[airA, airF]'));
    const planned = await plan(dir);
    const run = await download(dir, '--json');
    expect(run.code, run.stderr).toBe(0);
    for (const [source, p] of planned) {
      const fetched = recordedFiles(dir, source).filter((f) => f.role !== 'index');
      const key = (path: string, variant: string, hash: string) => `${path}|${variant}|${hash}`;
      expect(
        fetched
          .map((f) => key(f.path, f.variant, p.list.some((l) => l.md5) ? f.md5 : f.sha256))
          .sort(),
        source,
      ).toEqual(p.list.map((l) => key(l.path, l.variant, (l.md5 ?? l.sha256)!)).sort());
    }
  });
});
