/**
 * `airlock download` for a pypi source with requirements: the closure per environment over
 * the fixture's projects (src/fixture/universe.ts), expectations computed by hand:
 *   alpha 1.0 -> beta>=1.0, gamma; python_version < "3.12", epsilon; extra == "fast"
 *   cyc-a <-> cyc-b; fastcalc: cp310/cp311/cp312 manylinux, cp311 musllinux/win/mac, sdist;
 *   abiwheel cp38-abi3; purelib py3; oldpure py2.py3; sdistonly (sdist, no PEP 658 file);
 *   newpy 2.0 needs >= 3.12; yanky 1.1 yanked; prerel 2.0b1 beside 1.0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withUpstream, type TestUpstream } from '../helpers/upstream.js';
import {
  configDir,
  download,
  names,
  plan,
  PYPI,
  writeInput,
  type PlannedFileJson,
} from './plan-harness.js';

let t: TestUpstream;
beforeAll(async () => {
  t = await withUpstream();
});
afterAll(async () => t?.close());

const TWO_PYTHONS =
  'environments:\n' +
  '  - { name: py310, python: "3.10", distribution: jammy }\n' +
  '  - { name: py312, python: "3.12", distribution: jammy }\n';
const PY311 = 'environments:\n  - { name: py311, python: "3.11", distribution: jammy }\n';

/** The sha256 of a fixture PyPI file, as the upstream index states it. */
const sha256Of = (t: TestUpstream, filename: string) =>
  t.catalog.sources.pypi.snapshots['2026-11-01']!.files.find((f) => f.filename === filename)!
    .sha256;

const packages = (list: string[]) => `    packages: ${JSON.stringify(list)}\n`;
const distributions = (f: PlannedFileJson) => !f.path.endsWith('.metadata');
const usedBy = (env: string) => (f: PlannedFileJson) =>
  distributions(f) && f.environments.includes(env);

describe('Python selection in airlock download', () => {
  it('evaluates markers per Python version and follows requested extras', async () => {
    const dir = configDir(t, TWO_PYTHONS, [PYPI(packages(['alpha[fast]']))]);
    const pypi = (await plan(dir)).get('pypi')!;
    expect(names(pypi, usedBy('py310'))).toEqual([
      'alpha-1.0-py3-none-any.whl',
      'beta-1.0-py3-none-any.whl',
      'epsilon-1.0-py3-none-any.whl',
      'gamma-1.0-py3-none-any.whl',
    ]);
    expect(names(pypi, usedBy('py312'))).toEqual([
      'alpha-1.0-py3-none-any.whl',
      'beta-1.0-py3-none-any.whl',
      'epsilon-1.0-py3-none-any.whl',
    ]);
    const gamma = pypi.list.find((f) => f.path.endsWith('gamma-1.0-py3-none-any.whl'))!;
    expect(gamma.reasons).toEqual(['py310: alpha[fast] -> gamma']);
    // PEP 658 files travel beside the distributions that have them.
    expect(names(pypi, (f) => f.path.endsWith('.metadata'))).toEqual([
      'alpha-1.0-py3-none-any.whl.metadata',
      'beta-1.0-py3-none-any.whl.metadata',
    ]);
    expect(pypi.environments.map((e) => [e.name, e.files])).toEqual([
      ['py310', 6],
      ['py312', 5],
    ]);

    const plain = configDir(t, TWO_PYTHONS, [PYPI(packages(['alpha']))]);
    expect(names((await plan(plain)).get('pypi'), distributions)).not.toContain(
      'epsilon-1.0-py3-none-any.whl',
    );
  });

  it('resolves a dependency cycle once', async () => {
    const dir = configDir(t, PY311, [PYPI(packages(['cyc-a']))]);
    expect(names((await plan(dir)).get('pypi'), distributions)).toEqual([
      'cyc_a-1.0-py3-none-any.whl',
      'cyc_b-1.0-py3-none-any.whl',
    ]);
  });

  it('picks the cp311 manylinux wheel for jammy/Python 3.11, not musllinux, Windows, macOS or the sdist; accepts abi3 and pure wheels', async () => {
    const dir = configDir(t, PY311, [
      PYPI(packages(['fastcalc', 'abiwheel', 'purelib', 'oldpure'])),
    ]);
    expect(names((await plan(dir)).get('pypi'), distributions)).toEqual([
      'abiwheel-1.0-cp38-abi3-manylinux_2_17_x86_64.whl',
      'fastcalc-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
      'oldpure-1.0-py2.py3-none-any.whl',
      'purelib-1.0-py3-none-any.whl',
    ]);
  });

  it('respects requires-python, skips yanked files unless pinned, prefers final releases, and reads an sdist’s PKG-INFO', async () => {
    const dir = configDir(t, TWO_PYTHONS, [
      PYPI(packages(['newpy', 'yanky', 'prerel', 'sdistonly', 'Dotted.Name_Pkg'])),
    ]);
    const pypi = (await plan(dir)).get('pypi')!;
    expect(names(pypi, usedBy('py310'))).toEqual([
      'dotted_name_pkg-1.0-py3-none-any.whl',
      'newpy-1.0-py3-none-any.whl',
      'prerel-1.0-py3-none-any.whl',
      'sdistonly-1.0.tar.gz',
      'yanky-1.0-py3-none-any.whl',
    ]);
    expect(names(pypi, usedBy('py312'))).toContain('newpy-2.0-py3-none-any.whl');
    expect(names(pypi, usedBy('py312'))).not.toContain('newpy-1.0-py3-none-any.whl');

    const pinned = configDir(t, TWO_PYTHONS, [PYPI(packages(['yanky==1.1']))]);
    expect(names((await plan(pinned)).get('pypi'), distributions)).toEqual([
      'yanky-1.1-py3-none-any.whl',
    ]);
  });

  it('names a requirement no environment can install, and why, without failing the plan', async () => {
    const dir = configDir(t, TWO_PYTHONS, [PYPI(`${packages(['sdistonly'])}    sdists: never\n`)]);
    const pypi = (await plan(dir)).get('pypi')!;
    expect(pypi.list).toEqual([]);
    expect(pypi.problems.map((p) => [p.environment, p.requirement])).toEqual([
      ['py310', 'sdistonly (sdistonly)'],
      ['py312', 'sdistonly (sdistonly)'],
    ]);
    expect(pypi.problems[0]!.why).toContain('sdists: never');
  });

  it('fails with exit 2 naming a project the index lacks, unless allow-missing', async () => {
    const dir = configDir(t, PY311, [PYPI(packages(['alpha', 'no-such-project']))]);
    const res = await download(dir, '--dry-run');
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('no-such-project: no-such-project not in pypi/2026-11-01');
    const allowed = configDir(t, PY311, [
      PYPI(`${packages(['alpha', 'no-such-project'])}    allow-missing: true\n`),
    ]);
    const pypi = (await plan(allowed)).get('pypi')!;
    expect(names(pypi, distributions)).toContain('alpha-1.0-py3-none-any.whl');
    expect(pypi.problems.map((p) => p.why)).toEqual([
      'no-such-project: no-such-project not in pypi/2026-11-01',
    ]);
  });

  it('reads requirements.txt with includes, comments, hashes and markers, and a Connect manifest’s requirements', async () => {
    const dir = configDir(t, TWO_PYTHONS, [
      PYPI('    requirements: requirements.txt\n    connect-manifest: app/manifest.json\n'),
    ]);
    writeInput(dir, 'base.txt', '# shared by every team\npurelib  # pure python\n');
    writeInput(
      dir,
      'requirements.txt',
      [
        '--index-url https://pypi.example/simple',
        '-r base.txt',
        `cyc-a==1.0 \\`,
        `    --hash=sha256:${sha256Of(t, 'cyc_a-1.0-py3-none-any.whl')}`,
        'newpy ; python_version >= "3.12"',
        '',
      ].join('\n'),
    );
    writeInput(dir, 'app/requirements.txt', 'oldpure\n');
    writeInput(
      dir,
      'app/manifest.json',
      JSON.stringify({
        python: {
          version: '3.11.9',
          package_manager: { name: 'pip', package_file: 'requirements.txt' },
        },
      }),
    );
    const pypi = (await plan(dir)).get('pypi')!;
    expect(names(pypi, usedBy('py310'))).toEqual([
      'cyc_a-1.0-py3-none-any.whl',
      'cyc_b-1.0-py3-none-any.whl',
      'oldpure-1.0-py2.py3-none-any.whl',
      'purelib-1.0-py3-none-any.whl',
    ]);
    expect(names(pypi, usedBy('py312'))).toContain('newpy-2.0-py3-none-any.whl');
    expect(pypi.notes.join('\n')).toMatch(/requirements\.txt:1: --index-url ignored/);
  });

  it('refuses a malformed requirements.txt with exit 2 and the line at fault', async () => {
    const dir = configDir(t, PY311, [PYPI('    requirements: requirements.txt\n')]);
    writeInput(dir, 'requirements.txt', '# ok\npurelib\nalpha >= = 1\n');
    const res = await download(dir, '--dry-run');
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/requirements\.txt:3: /);
    expect(res.stderr).toContain('hint:');
  });

  it('without environments resolves for every supported CPython and carries every file of the chosen releases, and says so', async () => {
    const dir = configDir(t, '', [PYPI(packages(['fastcalc', 'alpha', 'newpy']))]);
    const pypi = (await plan(dir)).get('pypi')!;
    expect(names(pypi, distributions)).toEqual([
      'alpha-1.0-py3-none-any.whl',
      'alpha-1.0.tar.gz',
      'beta-1.0-py3-none-any.whl',
      'fastcalc-1.0-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
      'fastcalc-1.0-cp311-cp311-macosx_11_0_arm64.whl',
      'fastcalc-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
      'fastcalc-1.0-cp311-cp311-musllinux_1_1_x86_64.whl',
      'fastcalc-1.0-cp311-cp311-win_amd64.whl',
      'fastcalc-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
      'fastcalc-1.0.tar.gz',
      // gamma; python_version < "3.12": pip on 3.10 and 3.11 needs it.
      'gamma-1.0-py3-none-any.whl',
      // newpy 2.0 needs Python >= 3.12: 3.10 and 3.11 get 1.0.
      'newpy-1.0-py3-none-any.whl',
      'newpy-2.0-py3-none-any.whl',
    ]);
    const pythons = ['3.10', '3.11', '3.12', '3.13', '3.14', '3.15'];
    expect(pypi.environments.map((e) => e.name)).toEqual(pythons.map((p) => `cpython${p}`));
    const gamma = pypi.list.find((f) => f.path.endsWith('gamma-1.0-py3-none-any.whl'))!;
    expect(gamma.environments).toEqual(['cpython3.10', 'cpython3.11']);
    expect(pypi.notes.join('\n')).toContain(
      'no target environment has a Python: dependencies resolved for every supported CPython (3.10, 3.11, 3.12, 3.13, 3.14, 3.15)',
    );
  });
});
