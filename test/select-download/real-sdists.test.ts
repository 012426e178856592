/**
 * Sdists shaped like real ones (src/fixture/universe.ts): their dependencies are not in a
 * PKG-INFO of Metadata-Version below 2.2, but in `*.egg-info/requires.txt` or setup.cfg, and
 * the closure must carry them; an sdist whose dependencies nothing in it states is reported.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withUpstream, type TestUpstream } from '../helpers/upstream.js';
import { configDir, names, plan, PYPI, type PlannedFileJson } from './plan-harness.js';

let t: TestUpstream;
beforeAll(async () => {
  t = await withUpstream({ scale: { smallFiles: 2, smallMin: 100, smallMax: 200 } });
});
afterAll(async () => t?.close());

const PY311 = 'environments:\n  - { name: py311, python: "3.11", distribution: jammy }\n';
const packages = (list: string[]) => `    packages: ${JSON.stringify(list)}\n`;
const distributions = (f: PlannedFileJson) => !f.path.endsWith('.metadata');

describe('dependencies of sdists without authoritative PKG-INFO', () => {
  it('carries Jinja2 3.1.2 with MarkupSafe (requires.txt under src/) and Babel for [i18n]', async () => {
    const dir = configDir(t, PY311, [PYPI(packages(['Jinja2[i18n]']))]);
    const pypi = (await plan(dir)).get('pypi')!;
    expect(names(pypi, distributions)).toEqual([
      'babel-2.13.0-py3-none-any.whl',
      'jinja2-3.1.2.tar.gz',
      'markupsafe-2.1.3-py3-none-any.whl',
    ]);
    const markupsafe = pypi.list.find((f) => f.path.endsWith('markupsafe-2.1.3-py3-none-any.whl'));
    expect(markupsafe?.reasons).toEqual(['py311: Jinja2[i18n] -> MarkupSafe']);
    expect(pypi.problems).toEqual([]);
  });

  it('leaves the [i18n] section out when the extra is not asked for', async () => {
    const dir = configDir(t, PY311, [PYPI(packages(['Jinja2']))]);
    const pypi = (await plan(dir)).get('pypi')!;
    expect(names(pypi, distributions)).toEqual([
      'jinja2-3.1.2.tar.gz',
      'markupsafe-2.1.3-py3-none-any.whl',
    ]);
  });

  it('carries requests-toolbelt 1.0.0 with requests, and reads setup.cfg [options]', async () => {
    const dir = configDir(t, PY311, [PYPI(packages(['requests-toolbelt', 'cfgonly[fast]']))]);
    const pypi = (await plan(dir)).get('pypi')!;
    expect(names(pypi, distributions)).toEqual([
      'cfgonly-1.0.tar.gz',
      'fastcalc-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
      'purelib-1.0-py3-none-any.whl',
      'requests-2.31.0-py3-none-any.whl',
      'requests_toolbelt-1.0.0.tar.gz',
    ]);
    expect(pypi.problems).toEqual([]);
  });

  it('reports an sdist whose dependencies only setup.py knows, by name, as a problem', async () => {
    const dir = configDir(t, PY311, [PYPI(packages(['setuppyonly']))]);
    const pypi = (await plan(dir)).get('pypi')!;
    expect(names(pypi, distributions)).toEqual(['setuppyonly-1.0.tar.gz']);
    expect(pypi.problems).toHaveLength(1);
    expect(pypi.problems[0]).toMatchObject({
      source: 'pypi',
      requirement: 'setuppyonly-1.0.tar.gz',
    });
    expect(pypi.problems[0]!.why).toMatch(
      /dependencies are unknown: PKG-INFO is not authoritative/,
    );
  });
});
