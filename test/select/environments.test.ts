import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import {
  distributionFromImage,
  environmentsFromRuntimesYaml,
  parseEnvironments,
  parseRuntimesYaml,
  pythonTagsFor,
  rMinorsFor,
} from '../../src/select/index.js';

describe('environments: in the config', () => {
  it('fills in libc and glibc from the distribution', () => {
    const envs = parseEnvironments(
      [
        { name: 'prod', python: '3.11', r: '4.3.2', distribution: 'jammy' },
        { name: 'edge', python: '3.12.1', distribution: 'alpine3.19', arch: 'arm64' },
        { name: 'old', r: '4.1', distribution: 'rhel8' },
      ],
      'airlock.yaml',
    );
    expect(envs[0]).toEqual({
      name: 'prod',
      python: '3.11',
      r: '4.3.2',
      distribution: 'jammy',
      arch: 'x86_64',
      libc: 'glibc',
      glibc: '2.35',
    });
    expect(envs[1]).toMatchObject({ arch: 'aarch64', libc: 'musl', musl: '1.2' });
    expect(envs[2]).toMatchObject({ glibc: '2.28' });
    expect(rMinorsFor(envs)).toEqual(['4.1', '4.3']);
    expect([...pythonTagsFor(envs).keys()]).toEqual(['prod', 'edge']);
  });

  it.each([
    [
      [{ name: 'a', python: 3.1, distribution: 'jammy' }],
      'environments[0].python',
      'quote the version',
    ],
    [
      [{ name: 'a', python: '3.11', distribution: 'plan9' }],
      'environments[0].distribution',
      'glibc',
    ],
    [
      [{ name: 'a', python: '3.11' }],
      'environments[0].distribution: is required',
      'distribution: jammy',
    ],
    [[{ name: 'a', distribution: 'jammy' }], 'give python, r, or both', 'selects nothing'],
    [
      [{ name: 'a', python: '3.11', distribution: 'jammy', arch: 'sparc' }],
      'environments[0].arch',
      'x86_64',
    ],
    [
      [{ name: 'a', python: '3.11', distribution: 'jammy', pyhton: '3.12' }],
      'environments[0].pyhton: unknown key',
      'keys are',
    ],
    [
      [
        { name: 'a', python: '3.11', distribution: 'jammy' },
        { name: 'a', r: '4.3', distribution: 'jammy' },
      ],
      "environments[1].name: 'a' is used twice",
      'unique',
    ],
    [[], 'non-empty list', 'environments:'],
  ])('rejects %j naming the key', (value, message, hint) => {
    let error: unknown;
    try {
      parseEnvironments(value, 'airlock.yaml');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('airlock.yaml');
    expect((error as ConfigError).message).toContain(message);
    expect((error as ConfigError).hint).toContain(hint);
  });

  it('accepts a glibc version for a distribution it does not know', () => {
    const [env] = parseEnvironments(
      [{ name: 'x', python: '3.11', distribution: 'mylinux', glibc: '2.30' }],
      'c.yaml',
    );
    expect(env).toMatchObject({ libc: 'glibc', glibc: '2.30' });
  });
});

describe('distribution from an image name', () => {
  it.each([
    ['rstudio/content-base:r4.1.0-py3.9.2-jammy', 'jammy'],
    ['ghcr.io/rstudio/content-pro:r4.2.2-py3.11.3-ubuntu2204', 'ubuntu2204'],
    ['my-org/content:bookworm-r4.3', 'bookworm'],
    ['registry.example/rhel9/python-311:latest', 'rhel9'],
    ['my-org/content-base:r4.1-py3.10', undefined],
  ])('%s -> %s', (image, distribution) => {
    expect(distributionFromImage(image)).toBe(distribution);
  });
});

const RUNTIMES = `name: Kubernetes
images:
  - name: rstudio/content-base:r4.1.0-py3.9.2-jammy
    matching: any
    python:
      installations:
        - path: /opt/python/3.9.2/bin/python3
          version: 3.9.2
    r:
      installations:
        - path: /opt/R/4.1.0/bin/R
          version: 4.1.0
    quarto:
      installations:
        - path: /opt/quarto/bin/quarto
          version: 1.0.35
  - name: my-org/content:r4.3-py3.10-py3.12-ubuntu2404
    matching: exact
    python:
      installations:
        - path: /opt/python/3.10.4/bin/python3
          version: 3.10
        - path: /opt/python/3.12.1/bin/python3
          version: 3.12.1
    r:
      installations:
        - path: /opt/R/4.3.2/bin/R
          version: 4.3.2
  - name: rstudio/content-base:r3.6.3-py3.8.8-jammy
    matching: none
    python:
      installations:
        - path: /opt/python/3.8.8/bin/python3
          version: 3.8.8
`;

describe('environments-from: runtimes.yaml', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-runtimes-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('yields one environment per Python x R pair, skipping matching: none', async () => {
    const path = join(dir, 'runtimes.yaml');
    await writeFile(path, RUNTIMES);
    const envs = await environmentsFromRuntimesYaml(path);
    expect(envs.map((e) => [e.python, e.r, e.distribution, e.glibc])).toEqual([
      ['3.9.2', '4.1.0', 'jammy', '2.35'],
      ['3.10', '4.3.2', 'ubuntu2404', '2.39'],
      ['3.12.1', '4.3.2', 'ubuntu2404', '2.39'],
    ]);
    expect(envs[0]!.name).toBe('rstudio/content-base:r4.1.0-py3.9.2-jammy');
    expect(envs[1]!.name).toBe(
      'my-org/content:r4.3-py3.10-py3.12-ubuntu2404 (python 3.10, R 4.3.2)',
    );
    expect(rMinorsFor(envs)).toEqual(['4.1', '4.3']);
    const tags = pythonTagsFor(envs);
    expect(tags.get(envs[0]!.name)!.ordered[0]).toBe('cp39-cp39-manylinux_2_35_x86_64');
    expect(tags.get(envs[1]!.name)!.ordered[0]).toBe('cp310-cp310-manylinux_2_39_x86_64');
    expect(tags.get(envs[2]!.name)!.ordered[0]).toBe('cp312-cp312-manylinux_2_39_x86_64');
    expect([...tags.values()].some((t) => t.rank.has('cp38-cp38-manylinux_2_35_x86_64'))).toBe(
      false,
    );
  });

  it('reports skipped images and takes the distribution from the option when the name has none', () => {
    const text = `name: Kubernetes
images:
  - name: my-org/content-base:r4.1-py3.10
    r:
      installations:
        - {path: /opt/R/4.1.3/bin/R, version: 4.1.3}
  - name: my-org/quarto-only:bookworm
    quarto:
      installations:
        - {path: /opt/quarto/bin/quarto, version: 1.4.1}
`;
    const result = parseRuntimesYaml(text, 'runtimes.yaml', { distribution: 'noble' });
    expect(result.environments).toMatchObject([
      { r: '4.1.3', distribution: 'noble', image: 'my-org/content-base:r4.1-py3.10' },
    ]);
    expect(result.skipped).toEqual([
      { image: 'my-org/quarto-only:bookworm', reason: 'no Python or R installation' },
    ]);
  });

  it('asks for environments-distribution when an image name does not say, naming image and line', () => {
    const text =
      'name: Kubernetes\nimages:\n  - name: my-org/content-base:r4.1-py3.10\n    r:\n      installations:\n        - {path: /opt/R/bin/R, version: 4.1.3}\n';
    expect(() => parseRuntimesYaml(text, 'runtimes.yaml')).toThrow(
      /runtimes.yaml:3: image my-org\/content-base:r4.1-py3.10: cannot tell/,
    );
    try {
      parseRuntimesYaml(text, 'runtimes.yaml');
    } catch (err) {
      expect((err as ConfigError).hint).toContain('environments-distribution');
    }
  });

  it('reports YAML syntax errors and bad installations with their line', () => {
    expect(() => parseRuntimesYaml('images:\n  - name: [unclosed\n', 'r.yaml')).toThrow(
      /^r\.yaml:\d+: not valid YAML/,
    );
    const bad =
      'images:\n  - name: a:jammy\n    python:\n      installations:\n        - {path: /x}\n';
    expect(() => parseRuntimesYaml(bad, 'r.yaml')).toThrow(
      'r.yaml:2: image a:jammy: python installation has no valid version',
    );
    expect(() => parseRuntimesYaml('name: Kubernetes\n', 'r.yaml')).toThrow(ConfigError);
  });

  it('reports a missing runtimes.yaml as a config error', async () => {
    await expect(environmentsFromRuntimesYaml(join(dir, 'nope.yaml'))).rejects.toThrow(
      'does not exist',
    );
  });
});
