import { describe, expect, it } from 'vitest';
import {
  parseEnvironments,
  resolvePythonClosure,
  type PythonClosureInput,
  type TargetEnvironment,
} from '../../src/select/index.js';
import { parseRequirement } from '../../src/upstream/pep508.js';
import type { PypiFile } from '../../src/upstream/pypi-file.js';

interface Dist {
  filename: string;
  requiresPython?: string;
  yanked?: string;
}
interface Release {
  version: string;
  files: Array<string | Dist>;
  requires?: string[];
  metadataRequiresPython?: string;
}

/** A hand-written upstream: project -> releases, each with its files and Requires-Dist. */
const UNIVERSE: Record<string, Release[]> = {
  alpha: [
    { version: '1.0', files: ['alpha-1.0-py3-none-any.whl'] },
    {
      version: '2.0',
      files: ['alpha-2.0-py3-none-any.whl', 'alpha-2.0.tar.gz'],
      requires: ['beta>=1.0', 'gamma; python_version < "3.12"', 'epsilon; extra == "fast"'],
    },
  ],
  beta: [
    { version: '1.0', files: ['beta-1.0-py3-none-any.whl'] },
    { version: '1.5', files: ['beta-1.5-py2.py3-none-any.whl'] },
    { version: '2.0b1', files: ['beta-2.0b1-py3-none-any.whl'] },
  ],
  gamma: [{ version: '1.0', files: ['gamma-1.0-py3-none-any.whl'] }],
  epsilon: [{ version: '1.0', files: ['epsilon-1.0-py3-none-any.whl'], requires: ['alpha'] }],
  delta: [{ version: '1.0', files: ['delta-1.0-py3-none-any.whl'], requires: ['beta<1.2'] }],
  zeta: [{ version: '1.0', files: ['zeta-1.0-py3-none-any.whl'], requires: ['beta>=3'] }],
  'cyc-a': [{ version: '1.0', files: ['cyc_a-1.0-py3-none-any.whl'], requires: ['cyc-b'] }],
  'cyc-b': [{ version: '1.0', files: ['cyc_b-1.0-py3-none-any.whl'], requires: ['cyc-a>=1'] }],
  fastcalc: [
    {
      version: '1.0',
      files: [
        'fastcalc-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
        'fastcalc-1.0-cp311-cp311-musllinux_1_1_x86_64.whl',
        'fastcalc-1.0-cp311-cp311-win_amd64.whl',
        'fastcalc-1.0-cp311-cp311-macosx_11_0_arm64.whl',
        'fastcalc-1.0-cp310-cp310-manylinux2014_x86_64.whl',
        'fastcalc-1.0-cp312-cp312-manylinux_2_28_x86_64.whl',
        'fastcalc-1.0-cp312-cp312-manylinux_2_17_x86_64.whl',
        'fastcalc-1.0.tar.gz',
      ],
    },
  ],
  abiwheel: [{ version: '1.0', files: ['abiwheel-1.0-cp38-abi3-manylinux_2_17_x86_64.whl'] }],
  sdistonly: [{ version: '1.0', files: ['sdistonly-1.0.tar.gz'] }],
  newpy: [
    {
      version: '1.0',
      files: [{ filename: 'newpy-1.0-py3-none-any.whl', requiresPython: '>=3.8' }],
    },
    {
      version: '2.0',
      files: [{ filename: 'newpy-2.0-py3-none-any.whl', requiresPython: '>=3.12' }],
    },
    { version: '3.0', files: ['newpy-3.0-py3-none-any.whl'], metadataRequiresPython: '>=3.13' },
  ],
  yanky: [
    { version: '1.0', files: ['yanky-1.0-py3-none-any.whl'] },
    { version: '2.0', files: [{ filename: 'yanky-2.0-py3-none-any.whl', yanked: 'broken' }] },
  ],
  prerel: [{ version: '1.0b1', files: ['prerel-1.0b1-py3-none-any.whl'] }],
};

function project(name: string): { files: PypiFile[] } | undefined {
  const releases = UNIVERSE[name];
  if (!releases) return undefined;
  const files = releases.flatMap((release) =>
    release.files.map((f): PypiFile => {
      const dist = typeof f === 'string' ? { filename: f } : f;
      const file: PypiFile = {
        filename: dist.filename,
        url: `https://files.example/${dist.filename}`,
        hashes: {},
        yanked: dist.yanked === undefined ? false : { reason: dist.yanked },
        coreMetadata: {},
      };
      if (dist.requiresPython) file.requiresPython = dist.requiresPython;
      return file;
    }),
  );
  return { files };
}

function metadataFor(file: PypiFile): string {
  for (const [name, releases] of Object.entries(UNIVERSE)) {
    for (const release of releases) {
      const names = release.files.map((f) => (typeof f === 'string' ? f : f.filename));
      if (!names.includes(file.filename)) continue;
      const lines = ['Metadata-Version: 2.1', `Name: ${name}`, `Version: ${release.version}`];
      if (release.metadataRequiresPython)
        lines.push(`Requires-Python: ${release.metadataRequiresPython}`);
      for (const r of release.requires ?? []) lines.push(`Requires-Dist: ${r}`);
      return `${lines.join('\n')}\n\nDescription body\n`;
    }
  }
  throw new Error(`no metadata for ${file.filename}`);
}

const ENVS = parseEnvironments(
  [
    { name: 'py310', python: '3.10', distribution: 'jammy' },
    { name: 'py311', python: '3.11', distribution: 'jammy' },
    { name: 'py312', python: '3.12', distribution: 'noble' },
  ],
  'test.yaml',
);

function resolve(
  roots: string[],
  overrides: Partial<PythonClosureInput> = {},
  envs: TargetEnvironment[] = ENVS,
) {
  return resolvePythonClosure({
    roots: roots.map(parseRequirement),
    environments: envs,
    loadProject: async (name) => project(name),
    loadMetadata: async (file) => metadataFor(file),
    versions: 'newest',
    sdists: 'auto',
    ...overrides,
  });
}

const versionsIn = (closure: Awaited<ReturnType<typeof resolve>>, env: string) =>
  Object.fromEntries(
    [...closure.environments.get(env)!].map(([name, chosen]) => [name, chosen.version]),
  );

describe('Python closure', () => {
  it('evaluates markers per environment and follows extras', async () => {
    const closure = await resolve(['alpha[fast]']);
    expect(versionsIn(closure, 'py310')).toEqual({
      alpha: '2.0',
      beta: '1.5',
      gamma: '1.0',
      epsilon: '1.0',
    });
    expect(versionsIn(closure, 'py312')).toEqual({ alpha: '2.0', beta: '1.5', epsilon: '1.0' });
    expect(closure.unsatisfiable).toEqual([]);
    expect(closure.files.get('gamma-1.0-py3-none-any.whl')!.reasons).toEqual([
      'py310: alpha[fast] -> gamma',
      'py311: alpha[fast] -> gamma',
    ]);
    expect(closure.files.get('epsilon-1.0-py3-none-any.whl')!.reasons).toContain(
      'py312: alpha[fast] -> epsilon',
    );
    // The cycle back to alpha (epsilon requires alpha) ends at the already chosen release.
    expect(closure.files.get('alpha-2.0-py3-none-any.whl')!.reasons).toContain(
      'py310: alpha[fast] -> epsilon -> alpha',
    );
    // A wheel fits everywhere, so sdists: auto carries no sdist.
    expect(closure.files.has('alpha-2.0.tar.gz')).toBe(false);
  });

  it('leaves extra-only dependencies out without the extra', async () => {
    const closure = await resolve(['alpha']);
    expect(versionsIn(closure, 'py312')).toEqual({ alpha: '2.0', beta: '1.5' });
  });

  it('terminates on a dependency cycle', async () => {
    const closure = await resolve(['cyc-a']);
    expect(versionsIn(closure, 'py311')).toEqual({ 'cyc-a': '1.0', 'cyc-b': '1.0' });
    expect([...closure.files.keys()].sort()).toEqual([
      'cyc_a-1.0-py3-none-any.whl',
      'cyc_b-1.0-py3-none-any.whl',
    ]);
  });

  it('picks the cp311 manylinux wheel for jammy/3.11 and never musllinux, Windows or macOS wheels', async () => {
    const closure = await resolve(['fastcalc']);
    expect(
      closure.environments
        .get('py311')!
        .get('fastcalc')!
        .files.map((f) => f.filename),
    ).toEqual(['fastcalc-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl']);
    expect(
      closure.environments
        .get('py312')!
        .get('fastcalc')!
        .files.map((f) => f.filename),
    ).toEqual(['fastcalc-1.0-cp312-cp312-manylinux_2_28_x86_64.whl']);
    expect([...closure.files.keys()].sort()).toEqual([
      'fastcalc-1.0-cp310-cp310-manylinux2014_x86_64.whl',
      'fastcalc-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
      'fastcalc-1.0-cp312-cp312-manylinux_2_28_x86_64.whl',
    ]);
  });

  it('picks the musllinux wheel for Alpine', async () => {
    const alpine = parseEnvironments(
      [{ name: 'alpine', python: '3.11', distribution: 'alpine3.19' }],
      't.yaml',
    );
    const closure = await resolve(['fastcalc'], {}, alpine);
    expect([...closure.files.keys()]).toEqual([
      'fastcalc-1.0-cp311-cp311-musllinux_1_1_x86_64.whl',
    ]);
  });

  it('accepts abi3 and pure wheels, and carries an sdist only where no wheel fits', async () => {
    const closure = await resolve(['abiwheel', 'sdistonly', 'beta']);
    expect([...closure.files.keys()].sort()).toEqual([
      'abiwheel-1.0-cp38-abi3-manylinux_2_17_x86_64.whl',
      'beta-1.5-py2.py3-none-any.whl',
      'sdistonly-1.0.tar.gz',
    ]);
  });

  it('carries sdists always or never when asked', async () => {
    const always = await resolve(['alpha'], { sdists: 'always' });
    expect(always.files.has('alpha-2.0.tar.gz')).toBe(true);
    const never = await resolve(['sdistonly'], { sdists: 'never' });
    expect(never.files.size).toBe(0);
    expect(never.unsatisfiable[0]!.why).toContain(
      'none has a file Python 3.10 on jammy x86_64 can install',
    );
  });

  it('respects requires-python from the index and from the metadata', async () => {
    const closure = await resolve(['newpy']);
    expect(closure.environments.get('py310')!.get('newpy')!.version).toBe('1.0');
    expect(closure.environments.get('py312')!.get('newpy')!.version).toBe('2.0');
    expect(closure.files.has('newpy-3.0-py3-none-any.whl')).toBe(false);
  });

  it('skips yanked releases unless pinned exactly', async () => {
    expect(versionsIn(await resolve(['yanky']), 'py311')).toEqual({ yanky: '1.0' });
    expect(versionsIn(await resolve(['yanky==2.0']), 'py311')).toEqual({ yanky: '2.0' });
    expect(versionsIn(await resolve(['yanky>=2.0']), 'py311')).toEqual({});
  });

  it('applies the pre-release rules', async () => {
    expect(versionsIn(await resolve(['beta']), 'py311')).toEqual({ beta: '1.5' });
    expect(versionsIn(await resolve(['beta>=2.0b1']), 'py311')).toEqual({ beta: '2.0b1' });
    expect(versionsIn(await resolve(['prerel']), 'py311')).toEqual({ prerel: '1.0b1' });
  });

  it('re-chooses when a later requirement rules out the chosen release, and reports a conflict', async () => {
    expect(versionsIn(await resolve(['alpha', 'delta']), 'py312')).toEqual({
      alpha: '2.0',
      beta: '1.0',
      delta: '1.0',
    });
    const closure = await resolve(['alpha', 'zeta']);
    const conflict = closure.unsatisfiable.find((u) => u.environment === 'py312')!;
    expect(conflict.chain).toEqual(['zeta', 'beta']);
    expect(conflict.requirement).toBe('beta>=3');
    expect(conflict.why).toBe(
      'no release satisfies >=1.0,>=3 (newest: 2.0b1, 1.5, 1.0) (1.5 was chosen for alpha -> beta)',
    );
  });

  it('reports a project missing from the index with its chain', async () => {
    const closure = await resolve(['nosuch>=1'], {}, ENVS.slice(0, 1));
    expect(closure.unsatisfiable).toEqual([
      {
        environment: 'py310',
        requirement: 'nosuch>=1',
        chain: ['nosuch'],
        why: 'nosuch is not in the index',
      },
    ]);
  });

  it('applies constraints only to projects something requires', async () => {
    const closure = await resolve(['alpha'], {
      constraints: [parseRequirement('beta<1.2'), parseRequirement('gamma<0')],
    });
    expect(versionsIn(closure, 'py312')).toEqual({ alpha: '2.0', beta: '1.0' });
  });

  it('carries more root releases with versions: all and latest: N, each with its closure', async () => {
    const all = await resolve(['alpha'], { versions: 'all' }, ENVS.slice(0, 1));
    expect([...all.files.keys()].sort()).toEqual([
      'alpha-1.0-py3-none-any.whl',
      'alpha-2.0-py3-none-any.whl',
      'beta-1.5-py2.py3-none-any.whl',
      'gamma-1.0-py3-none-any.whl',
    ]);
    const latest = await resolve(['beta'], { versions: { latest: 2 } }, ENVS.slice(0, 1));
    expect([...latest.files.keys()].sort()).toEqual([
      'beta-1.0-py3-none-any.whl',
      'beta-1.5-py2.py3-none-any.whl',
    ]);
  });

  it('loads each project page and each metadata file once across environments', async () => {
    const pages: string[] = [];
    const metadata: string[] = [];
    await resolve(['alpha[fast]'], {
      loadProject: async (name) => {
        pages.push(name);
        return project(name);
      },
      loadMetadata: async (file) => {
        metadata.push(file.filename);
        return metadataFor(file);
      },
    });
    expect(pages.sort()).toEqual(['alpha', 'beta', 'epsilon', 'gamma']);
    expect(new Set(metadata).size).toBe(metadata.length);
  });
});
