import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import {
  parseDescription,
  parseRenvLock,
  pythonRequirementsFromList,
  rRequirementsFromList,
  readConnectManifest,
  readRequirementsFile,
} from '../../src/select/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-inputs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, text);
  return path;
}

/** The ConfigError a promise or call rejects with. */
async function configError(run: () => unknown): Promise<ConfigError> {
  try {
    await run();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(2);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

describe('requirements.txt', () => {
  it('reads includes, constraints, comments, continuations, hashes and markers', async () => {
    await write('reqs/base.txt', '# shared\nbeta>=1.0  # inline comment\n');
    await write('reqs/constraints.txt', 'gamma<2\n');
    const path = await write(
      'reqs/requirements.txt',
      [
        '--index-url https://pypi.example/simple',
        '-r base.txt',
        '-c constraints.txt',
        '',
        'alpha[fast]==1.2.0 \\',
        `    --hash=sha256:${SHA_A} \\`,
        `    --hash sha256:${SHA_B}`,
        'gamma ; python_version < "3.12"',
        '-r base.txt',
      ].join('\n'),
    );
    const parsed = await readRequirementsFile(path);
    expect(
      parsed.requirements.map((r) => [r.requirement.name, r.line, r.file.endsWith('base.txt')]),
    ).toEqual([
      ['beta', 2, true],
      ['alpha', 5, false],
      ['gamma', 8, false],
      ['beta', 2, true],
    ]);
    expect(parsed.requirements[1]!.hashes).toEqual([`sha256:${SHA_A}`, `sha256:${SHA_B}`]);
    expect(parsed.requirements[1]!.requirement.extras).toEqual(['fast']);
    expect(parsed.requirements[2]!.requirement.markerText).toBe('python_version < "3.12"');
    expect(parsed.constraints.map((c) => c.requirement.specifier.toString())).toEqual(['<2']);
    expect(parsed.notes[0]).toMatch(/requirements\.txt:1: --index-url ignored/);
  });

  it('stops a -r cycle instead of looping', async () => {
    await write('cycle/a.txt', '-r b.txt\nalpha\n');
    await write('cycle/b.txt', '-r a.txt\nbeta\n');
    const parsed = await readRequirementsFile(join(dir, 'cycle/a.txt'));
    expect(parsed.requirements.map((r) => r.requirement.name)).toEqual(['beta', 'alpha']);
    expect(parsed.notes.join('\n')).toContain('already included');
  });

  it.each([
    ['alpha==1.0\nbeta>=>2\n', ':2: invalid requirement', 'PEP 508'],
    [
      'alpha\n\n-e ./src/mypkg\n',
      ':3: editable requirements cannot be carried',
      'name the project',
    ],
    ['./dist/mypkg-1.0.whl\n', ":1: './dist/mypkg-1.0.whl' is a local path", 'name the project'],
    ['git+https://example.org/repo.git\n', ':1: ', 'name the project'],
    ['alpha --hash=md5\n', ':1: --hash needs algorithm:hexdigest', 'sha256'],
    ['--frobnicate\n', ':1: unknown option --frobnicate', 'remove'],
    ['-r\n', ':1: -r needs a file name', '-r other.txt'],
  ])('rejects %j with its line number', async (text, message, hint) => {
    const path = await write('bad/requirements.txt', text);
    const error = await configError(() => readRequirementsFile(path));
    expect(error.message).toContain(`${path}${message}`);
    expect(error.hint).toContain(hint);
  });

  it('names the including file when an include is missing', async () => {
    const path = await write('missing/requirements.txt', '-r nope.txt\n');
    const error = await configError(() => readRequirementsFile(path));
    expect(error.message).toContain('nope.txt does not exist (named by');
  });
});

const RENV = `{
  "R": {
    "Version": "4.3.2",
    "Repositories": [{ "Name": "CRAN", "URL": "https://cran.example" }]
  },
  "Packages": {
    "airA": {
      "Package": "airA",
      "Version": "1.0.0",
      "Source": "Repository",
      "Repository": "CRAN"
    },
    "airB": { "Package": "airB", "Version": "2.1-3", "Source": "Repository" }
  }
}
`;

describe('renv.lock', () => {
  it('turns packages into exact pins and records the R version', () => {
    const lock = parseRenvLock(RENV, 'renv.lock');
    expect(lock.rVersion).toBe('4.3.2');
    expect(lock.packages).toEqual([
      {
        name: 'airA',
        constraint: { op: '==', version: '1.0.0' },
        origin: 'renv.lock',
        source: 'Repository',
        repository: 'CRAN',
      },
      {
        name: 'airB',
        constraint: { op: '==', version: '2.1-3' },
        origin: 'renv.lock',
        source: 'Repository',
      },
    ]);
  });

  it('reports a JSON syntax error with its line and column', async () => {
    const broken = RENV.replace(
      '"Source": "Repository",\n      "Repository"',
      '"Source": "Repository"\n      "Repository"',
    );
    const error = await configError(() => parseRenvLock(broken, 'renv.lock'));
    expect(error.message).toMatch(/^renv\.lock:11:7: not valid JSON: expected ',' or '}'/);
    expect(error.hint).toContain('renv::snapshot()');
  });

  it('reports a missing version at the line of the package', async () => {
    const error = await configError(() =>
      parseRenvLock(RENV.replace('"Version": "2.1-3", ', ''), 'renv.lock'),
    );
    expect(error.message).toBe('renv.lock:13: Packages.airB has no valid Version (undefined)');
  });

  it('reports a lock without Packages', async () => {
    const error = await configError(() => parseRenvLock('{"R": {}}', 'renv.lock'));
    expect(error.message).toContain("renv.lock:1: expected an object with a 'Packages' object");
    const truncated = await configError(() => parseRenvLock('{\n "Packages": {\n', 'renv.lock'));
    expect(truncated.message).toMatch(/^renv\.lock:3:1: not valid JSON/);
  });
});

describe('DESCRIPTION', () => {
  const DESCRIPTION = [
    'Package: mypkg',
    'Version: 0.1.0',
    'Depends: R (>= 4.1.0), airA',
    'Imports:',
    '    airB (>= 2.0),',
    '    airC',
    'LinkingTo: airD',
    'Suggests: airE',
    '',
  ].join('\n');

  it('takes Depends, Imports and LinkingTo, and Suggests when asked', () => {
    const parsed = parseDescription(DESCRIPTION, 'DESCRIPTION');
    expect(parsed.package).toBe('mypkg');
    expect(parsed.rConstraint).toEqual({ op: '>=', version: '4.1.0' });
    expect(parsed.requirements.map((r) => [r.name, r.constraint?.version])).toEqual([
      ['airA', undefined],
      ['airB', '2.0'],
      ['airC', undefined],
      ['airD', undefined],
    ]);
    const withSuggests = parseDescription(DESCRIPTION, 'DESCRIPTION', { suggests: true });
    expect(withSuggests.requirements.map((r) => r.name)).toContain('airE');
  });

  it('reports a malformed line and a malformed dependency with line numbers', async () => {
    const garbled = await configError(() =>
      parseDescription('Package: x\nthis is not a field\n', 'DESCRIPTION'),
    );
    expect(garbled.message).toMatch(/^DESCRIPTION:2: /);
    const badDep = await configError(() =>
      parseDescription('Package: x\nVersion: 1\nImports: airB (>= two)\n', 'DESCRIPTION'),
    );
    expect(badDep.message).toMatch(/^DESCRIPTION:3: .*cannot parse dependency/);
  });
});

describe('Connect manifest.json', () => {
  it('reads R packages, the Python requirements file beside it, and the image', async () => {
    await write('content/requirements.txt', 'alpha>=1.0\n');
    const path = await write(
      'content/manifest.json',
      JSON.stringify(
        {
          version: 1,
          platform: '4.3.2',
          environment: { image: 'rstudio/content-base:r4.3.2-py3.11.4-jammy' },
          python: {
            version: '3.11.4',
            package_manager: { name: 'pip', version: '23.0', package_file: 'requirements.txt' },
          },
          packages: {
            airA: {
              Source: 'CRAN',
              Repository: 'https://cran.example',
              description: { Package: 'airA', Version: '1.0.0' },
            },
          },
        },
        null,
        2,
      ),
    );
    const manifest = await readConnectManifest(path);
    expect(manifest.rVersion).toBe('4.3.2');
    expect(manifest.pythonVersion).toBe('3.11.4');
    expect(manifest.image).toBe('rstudio/content-base:r4.3.2-py3.11.4-jammy');
    expect(manifest.rPackages).toEqual([
      { name: 'airA', constraint: { op: '==', version: '1.0.0' }, origin: path },
    ]);
    expect(manifest.python!.requirements.map((r) => r.requirement.name)).toEqual(['alpha']);
  });

  it('reports malformed manifests with their line', async () => {
    const syntax = await write(
      'bad/manifest.json',
      '{\n  "version": 1,\n  "packages": {\n    "airA": {,}\n  }\n}\n',
    );
    expect((await configError(() => readConnectManifest(syntax))).message).toMatch(
      /manifest\.json:4:14: not valid JSON/,
    );
    const noVersion = await write(
      'bad2/manifest.json',
      '{\n  "version": 1,\n  "packages": {\n    "airA": {\n      "description": {"Package": "airA"}\n    }\n  }\n}\n',
    );
    const error = await configError(() => readConnectManifest(noVersion));
    expect(error.message).toContain(
      'manifest.json:4: packages.airA.description.Version is missing or invalid',
    );
    expect(error.hint).toContain('rsconnect');
  });
});

describe('packages: lists', () => {
  it('parses Python specifiers and R names with constraints', () => {
    expect(
      pythonRequirementsFromList(['requests>=2.31,<3', 'numpy'], 'c.yaml: sources[1].packages').map(
        (r) => r.normalizedName,
      ),
    ).toEqual(['requests', 'numpy']);
    expect(rRequirementsFromList(['airA', 'airB (>= 1.1)'], 'c.yaml: sources[0].packages')).toEqual(
      [
        { name: 'airA', origin: 'c.yaml: sources[0].packages' },
        {
          name: 'airB',
          constraint: { op: '>=', version: '1.1' },
          origin: 'c.yaml: sources[0].packages',
        },
      ],
    );
  });

  it('names the config key and entry of a bad specifier', async () => {
    const py = await configError(() =>
      pythonRequirementsFromList(['numpy', 'requests>>2'], 'c.yaml: sources[1].packages'),
    );
    expect(py.message).toContain('c.yaml: sources[1].packages[1]: invalid requirement');
    const r = await configError(() =>
      rRequirementsFromList(['airA, airB'], 'c.yaml: sources[0].packages'),
    );
    expect(r.message).toContain('c.yaml: sources[0].packages[0]: expected one package');
    const bad = await configError(() =>
      rRequirementsFromList(['airA (>= x)'], 'c.yaml: sources[0].packages'),
    );
    expect(bad.message).toContain('sources[0].packages[0]: cannot parse dependency');
  });
});
