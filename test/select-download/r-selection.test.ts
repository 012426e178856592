/**
 * `airlock download` for cran and cran-binary sources with package inputs: the closure over
 * the fixture's graph (src/fixture/universe.ts), computed by hand here:
 *   airA -> airB (>= 1.0) -> airC (Depends) -> airD (LinkingTo); airC Suggests airE;
 *   airF imports only base/recommended packages; airG imports notHere (in no snapshot).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withUpstream, type TestUpstream } from '../helpers/upstream.js';
import {
  BINARY,
  configDir,
  CRAN,
  download,
  names,
  plan,
  recordedPackagesNames,
  writeInput,
} from './plan-harness.js';

let t: TestUpstream;
beforeAll(async () => {
  t = await withUpstream();
});
afterAll(async () => t?.close());

const AIR_A_CLOSURE = ['airA_1.0.tar.gz', 'airB_1.0.tar.gz', 'airC_1.0.tar.gz', 'airD_1.0.tar.gz'];

describe('R selection in airlock download', () => {
  it('carries the closure over Depends, Imports and LinkingTo, with each chain, and a PACKAGES of exactly those', async () => {
    const dir = configDir(t, '', [CRAN('', '[airA, airF]')]);
    const cran = (await plan(dir)).get('cran')!;
    expect(names(cran)).toEqual([...AIR_A_CLOSURE, 'airF_1.0.tar.gz'].sort());
    const reasons = Object.fromEntries(cran.list.map((f) => [f.path, f.reasons]));
    expect(reasons['src/contrib/airD_1.0.tar.gz']).toEqual(['airA -> airB -> airC -> airD']);
    expect(reasons['src/contrib/airF_1.0.tar.gz']).toEqual(['airF']);
    expect(cran.problems).toEqual([]);

    const run = await download(dir);
    expect(run.code, run.stderr).toBe(0);
    expect(recordedPackagesNames(dir, 'cran')).toEqual(['airA', 'airB', 'airC', 'airD', 'airF']);
  });

  it('adds the roots’ Suggests only with suggests: true', async () => {
    const without = configDir(t, '', [CRAN('', '[airC]')]);
    expect(names((await plan(without)).get('cran'))).toEqual([
      'airC_1.0.tar.gz',
      'airD_1.0.tar.gz',
    ]);
    const withSuggests = configDir(t, '', [CRAN('    suggests: true\n', '[airC]')]);
    expect(names((await plan(withSuggests)).get('cran'))).toEqual([
      'airC_1.0.tar.gz',
      'airD_1.0.tar.gz',
      'airE_1.0.tar.gz',
    ]);
  });

  it('fails with exit 2 naming the chain of a dependency the snapshot lacks, unless allow-missing', async () => {
    const dir = configDir(t, '', [CRAN('', '[airA, airG]')]);
    const res = await download(dir, '--dry-run');
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('airG -> notHere: notHere not in cran/2026-11-01');
    expect(res.stderr).toContain('allow-missing');

    const allowed = configDir(t, '', [CRAN('    allow-missing: true\n', '[airA, airG]')]);
    const cran = (await plan(allowed)).get('cran')!;
    expect(names(cran)).toEqual([...AIR_A_CLOSURE, 'airG_1.0.tar.gz'].sort());
    expect(cran.problems).toEqual([
      {
        source: 'cran',
        requirement: 'airG -> notHere',
        why: 'airG -> notHere: notHere not in cran/2026-11-01',
      },
    ]);
  });

  it('takes the R minors of a cran-binary source from the environments when r: is not set', async () => {
    const envs =
      'environments:\n' +
      '  - { name: old, r: "4.3.2", distribution: jammy }\n' +
      '  - { name: py-only, python: "3.11", distribution: jammy }\n';
    const dir = configDir(t, envs, [BINARY('    packages: [airB]\n    fallback-source: false\n')]);
    const binary = (await plan(dir)).get('cran-jammy')!;
    expect(names(binary)).toEqual([
      'airB_1.0.tar.gz|R-4.3',
      'airC_1.0.tar.gz|R-4.3',
      'airD_1.0.tar.gz|R-4.3',
    ]);
    expect(binary.environments.map((e) => [e.name, e.files])).toEqual([['old', 3]]);
    expect(binary.list.every((f) => f.environments.join() === 'old')).toBe(true);

    const run = await download(dir);
    expect(run.code, run.stderr).toBe(0);
    expect(recordedPackagesNames(dir, 'cran-jammy', 'R-4.3')).toEqual(['airB', 'airC', 'airD']);
  });

  it('refuses a cran-binary source with neither r: nor environments with R (exit 2)', async () => {
    const dir = configDir(t, '', [BINARY('    packages: [airA]\n')]);
    const res = await download(dir, '--dry-run');
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(
      /mirror\.yaml:\d+: sources\[0\]: cran-binary source "cran-jammy" has no R versions/,
    );
    expect(res.stderr).toContain('r: ["4.3", "4.4"]');
  });

  it('reads roots from renv.lock, DESCRIPTION and a Connect manifest.json', async () => {
    const dir = configDir(t, '', [
      CRAN(
        '    renv-lock: renv.lock\n    description: DESCRIPTION\n    connect-manifest: manifest.json\n',
        '[]',
      ),
    ]);
    writeInput(
      dir,
      'renv.lock',
      JSON.stringify(
        { R: { Version: '4.3.2' }, Packages: { airD: { Package: 'airD', Version: '1.0' } } },
        null,
        2,
      ),
    );
    writeInput(dir, 'DESCRIPTION', 'Package: myapp\nVersion: 0.1\nImports: airF, stats\n');
    writeInput(
      dir,
      'manifest.json',
      JSON.stringify({
        platform: '4.3.2',
        packages: { airE: { description: { Package: 'airE', Version: '1.0' } } },
      }),
    );
    expect(names((await plan(dir)).get('cran'))).toEqual([
      'airD_1.0.tar.gz',
      'airE_1.0.tar.gz',
      'airF_1.0.tar.gz',
    ]);
  });

  it('refuses a malformed manifest.json with exit 2 and the line at fault', async () => {
    const dir = configDir(t, '', [CRAN('    connect-manifest: manifest.json\n', '[]')]);
    writeInput(
      dir,
      'manifest.json',
      '{\n  "platform": "4.3.2",\n  "packages": {\n    "airA": { "description": { "Package": "airA" } }\n  }\n}\n',
    );
    const res = await download(dir, '--dry-run');
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(
      /manifest\.json:4: packages\.airA\.description\.Version is missing or invalid/,
    );
    expect(res.stderr).toContain('hint:');
  });

  it('refuses a malformed renv.lock with exit 2 and the line at fault', async () => {
    const dir = configDir(t, '', [CRAN('    renv-lock: renv.lock\n', '[]')]);
    writeInput(
      dir,
      'renv.lock',
      '{\n  "Packages": {\n    "airA": {\n      "Package": "airA",\n      "Version": 1.0\n    }\n  }\n}\n',
    );
    const res = await download(dir, '--dry-run');
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/renv\.lock:5: Packages\.airA has no valid Version/);
    expect(res.stderr).toContain('hint:');
  });
});
