/**
 * `--hash` values in requirements.txt, as pip applies them: with hashes listed for a project,
 * only its files whose sha256 is among them are carried; when none of the chosen files is,
 * `airlock download` fails with an integrity error (exit 4) naming the file and both hashes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withUpstream, type TestUpstream } from '../helpers/upstream.js';
import { configDir, download, names, plan, PYPI, writeInput } from './plan-harness.js';

let t: TestUpstream;
beforeAll(async () => {
  t = await withUpstream();
});
afterAll(async () => t?.close());

const PY311 = 'environments:\n  - { name: py311, python: "3.11", distribution: jammy }\n';
const REQS = PYPI('    requirements: requirements.txt\n');
const distributions = (f: { path: string }) => !f.path.endsWith('.metadata');

function sha256Of(filename: string): string {
  const file = t.catalog.sources.pypi.snapshots['2026-11-01']!.files.find(
    (f) => f.filename === filename,
  );
  if (!file) throw new Error(`no fixture file ${filename}`);
  return file.sha256;
}

describe('requirements.txt --hash', () => {
  it('carries the files whose hashes are listed', async () => {
    const dir = configDir(t, PY311, [REQS]);
    writeInput(
      dir,
      'requirements.txt',
      [
        `cyc-a==1.0 --hash=sha256:${sha256Of('cyc_a-1.0-py3-none-any.whl')}`,
        `cyc-b==1.0 \\`,
        `    --hash=sha256:${'0'.repeat(64)} \\`,
        `    --hash=sha256:${sha256Of('cyc_b-1.0-py3-none-any.whl').toUpperCase()}`,
        '',
      ].join('\n'),
    );
    expect(names((await plan(dir)).get('pypi'), distributions)).toEqual([
      'cyc_a-1.0-py3-none-any.whl',
      'cyc_b-1.0-py3-none-any.whl',
    ]);
  });

  it('a file whose hash is not listed is an integrity error naming the file and both hashes', async () => {
    const dir = configDir(t, PY311, [REQS]);
    const wrong = 'b'.repeat(64);
    writeInput(dir, 'requirements.txt', `cyc-a==1.0\npurelib==1.0 --hash=sha256:${wrong}\n`);
    const res = await download(dir, '--dry-run');
    expect(res.code, res.stderr).toBe(4);
    expect(res.stderr).toContain('purelib-1.0-py3-none-any.whl');
    expect(res.stderr).toContain(`sha256:${wrong}`);
    expect(res.stderr).toContain(`sha256:${sha256Of('purelib-1.0-py3-none-any.whl')}`);
    expect(res.stderr).toMatch(/requirements\.txt:2/);
    expect(res.stderr).toMatch(/pip-compile --generate-hashes/);
  });

  it('with hashes for some files of a release only, carries those and notes the others (pip refuses them)', async () => {
    // No environments: every file of the chosen release would be carried.
    const dir = configDir(t, '', [REQS]);
    const plain = configDir(t, '', [PYPI('    requirements: requirements.txt\n')]);
    writeInput(plain, 'requirements.txt', 'fastcalc==1.0\n');
    const all = names((await plan(plain)).get('pypi'), distributions);
    expect(all.length).toBeGreaterThan(2);
    const [first, second] = all.filter((n) => n.startsWith('fastcalc-'));
    writeInput(
      dir,
      'requirements.txt',
      `fastcalc==1.0 --hash=sha256:${sha256Of(first!)} --hash=sha256:${sha256Of(second!)}\n`,
    );
    const pypi = (await plan(dir)).get('pypi')!;
    expect(names(pypi, distributions)).toEqual([first, second].sort());
    const leftOut = all.filter((n) => n !== first && n !== second);
    for (const name of leftOut) {
      expect(pypi.notes.join('\n')).toContain(`${name}: left out`);
    }
  });
});
