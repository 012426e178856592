/**
 * Reading an sdist's dependencies from real .tar.gz files made by the fixture's tar writer:
 * which file is trusted (PEP 643), and the forms requires.txt, setup.cfg and pyproject.toml
 * write them in.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSdistMetadata } from '../../src/download/sdist-metadata.js';
import { tarGz } from '../../src/fixture/tar-writer.js';
import { parseCoreMetadata } from '../../src/upstream/core-metadata.js';
import { parseRequiresTxt } from '../../src/upstream/egg-requires.js';
import { parsePyprojectDependencies } from '../../src/upstream/pyproject-toml.js';

const dir = mkdtempSync(join(tmpdir(), 'airlock-sdist-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PKG_21 = 'Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n\nlong description\n';

async function read(files: Record<string, string>) {
  const path = join(dir, `demo-${Math.random().toString(36).slice(2)}.tar.gz`);
  writeFileSync(
    path,
    tarGz(Object.entries(files).map(([p, content]) => ({ path: `demo-1.0/${p}`, content }))),
  );
  const got = await readSdistMetadata(path, 'demo-1.0.tar.gz');
  return { ...got, metadata: parseCoreMetadata(got.text) };
}

describe('requires.txt', () => {
  it('turns [extra], [:marker] and [extra:marker] sections into Requires-Dist markers', () => {
    const parsed = parseRequiresTxt(
      'charset_normalizer<4,>=2\nidna<4,>=2.5\n\n[:python_version < "3.8"]\nimportlib-metadata\n\n' +
        '[socks]\nPySocks!=1.5.7,>=1.5.6\n\n[use_chardet_on_py3:sys_platform == "win32"]\nchardet<6,>=3.0.2\n',
    );
    expect(parsed.requiresDist).toEqual([
      'charset_normalizer<4,>=2',
      'idna<4,>=2.5',
      'importlib-metadata; python_version < "3.8"',
      'PySocks!=1.5.7,>=1.5.6; extra == "socks"',
      'chardet<6,>=3.0.2; (sys_platform == "win32") and extra == "use_chardet_on_py3"',
    ]);
    expect(parsed.providesExtra).toEqual(['socks', 'use_chardet_on_py3']);
  });
});

describe('pyproject.toml', () => {
  it('reads [project] dependencies and optional-dependencies over several lines', () => {
    const got = parsePyprojectDependencies(`
[build-system]
requires = ["hatchling"]   # a comment
build-backend = 'hatchling.build'

[project]
name = "demo"
version = "1.0"
authors = [{ name = "A. Person", email = "a@example.org" }]
dependencies = [
  "idna>=2.5",  # why
  'tomli; python_version < "3.11"',
  """multi""",
]

[project.optional-dependencies]
test = ["pytest>=7", "coverage[toml]"]

[tool.x]
"quoted.key" = 1979-05-27T07:32:00Z
`);
    expect(got?.requiresDist).toEqual([
      'idna>=2.5',
      'tomli; python_version < "3.11"',
      'multi',
      'pytest>=7; extra == "test"',
      'coverage[toml]; extra == "test"',
    ]);
    expect(got?.providesExtra).toEqual(['test']);
  });

  it('reads dotted keys, and gives nothing when dependencies are dynamic', () => {
    expect(
      parsePyprojectDependencies('project.name = "x"\nproject.dependencies = ["a"]\n')
        ?.requiresDist,
    ).toEqual(['a']);
    expect(
      parsePyprojectDependencies('[project]\nname = "x"\ndynamic = ["version", "dependencies"]\n'),
    ).toBeUndefined();
    expect(parsePyprojectDependencies('[tool.poetry]\nname = "x"\n')).toBeUndefined();
    // A [project] table without dependencies declares none.
    expect(parsePyprojectDependencies('[project]\nname = "x"\n')?.requiresDist).toEqual([]);
  });
});

describe('which file of an sdist states its dependencies', () => {
  it('trusts a PKG-INFO of Metadata-Version 2.2 without Dynamic: Requires-Dist', async () => {
    const got = await read({
      'PKG-INFO': 'Metadata-Version: 2.2\nName: demo\nVersion: 1.0\nRequires-Dist: a\n\n',
      'pyproject.toml': '[project]\ndependencies = ["b"]\n',
    });
    expect([got.from, got.metadata.requiresDist]).toEqual(['PKG-INFO', ['a']]);
  });

  it('reads requires.txt when PKG-INFO is 2.1, or 2.2 with Dynamic: Requires-Dist', async () => {
    const old = await read({
      'PKG-INFO': PKG_21,
      'src/demo.egg-info/PKG-INFO': PKG_21,
      'src/demo.egg-info/requires.txt': 'a>=1\n\n[x]\nb\n',
    });
    expect(old.from).toBe('egg-info/requires.txt');
    expect(old.metadata.requiresDist).toEqual(['a>=1', 'b; extra == "x"']);
    expect(old.metadata.providesExtra).toEqual(['x']);
    expect(old.metadata.name).toBe('demo');
    const dynamic = await read({
      'PKG-INFO':
        'Metadata-Version: 2.2\nName: demo\nVersion: 1.0\nDynamic: Requires-Dist\nRequires-Dist: stale\n\n',
      'demo.egg-info/requires.txt': 'fresh\n',
    });
    expect(dynamic.metadata.requiresDist).toEqual(['fresh']);
  });

  it('takes an egg-info without requires.txt as no dependencies, not unknown ones', async () => {
    const got = await read({ 'PKG-INFO': PKG_21, 'demo.egg-info/PKG-INFO': PKG_21 });
    expect([got.from, got.unknown, got.metadata.requiresDist]).toEqual([
      'egg-info without requires.txt',
      undefined,
      [],
    ]);
  });

  it('says the dependencies are unknown when only setup.py could tell', async () => {
    const got = await read({ 'PKG-INFO': PKG_21, 'setup.py': 'setup(install_requires=x)\n' });
    expect(got.unknown).toMatch(/not authoritative/);
    expect(got.metadata.requiresDist).toEqual([]);
  });
});
