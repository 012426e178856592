/** Target environments in the config: `environments:` and `environments-from:` (runtimes.yaml). */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'airlock-config-envs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FILE = '/etc/airlock/mirror.yaml';
const SOURCES = `sources:
  - name: cran-jammy
    type: cran-binary
    url: https://pm.example/cran/__linux__/jammy/{snapshot}
    distribution: jammy
`;

function configError(text: string): ConfigError {
  try {
    parseConfig(text, FILE);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('config environments', () => {
  it('reads environments with their libc, keeps an unquoted 3.10 as written, and derives cran-binary R minors', () => {
    const config = parseConfig(
      `environments:
  - { name: a, python: 3.10, r: "4.3.2", distribution: jammy }
  - { name: b, python: "3.12", r: 4.4, distribution: alpine3.19, arch: arm64 }
${SOURCES}`,
      FILE,
    );
    expect(config.environments).toEqual([
      {
        name: 'a',
        python: '3.10',
        r: '4.3.2',
        distribution: 'jammy',
        arch: 'x86_64',
        libc: 'glibc',
        glibc: '2.35',
      },
      {
        name: 'b',
        python: '3.12',
        r: '4.4',
        distribution: 'alpine3.19',
        arch: 'aarch64',
        libc: 'musl',
        musl: '1.2',
      },
    ]);
    const source = config.sources[0]!;
    expect(source.type === 'cran-binary' && source.r).toEqual(['4.3', '4.4']);
  });

  it('names the line and key of a bad environment, with the fix', () => {
    const typo = configError(
      `environments:\n  - name: a\n    distribution: jammy\n    pyhton: "3.11"\n${SOURCES}`,
    );
    expect(typo.message).toBe(`${FILE}:4: environments[0].pyhton: unknown key "pyhton"`);
    expect(typo.hint).toContain('did you mean "python"');

    const distro = configError(
      `environments:\n  - name: a\n    python: "3.11"\n    distribution: plan9\n${SOURCES}`,
    );
    expect(distro.message).toMatch(
      /^\/etc\/airlock\/mirror\.yaml:4: environments\[0\]\.distribution: unknown distribution 'plan9'/,
    );
    expect(distro.hint).toContain('jammy');

    const nothing = configError(`environments:\n  - { name: a, distribution: jammy }\n${SOURCES}`);
    expect(nothing.message).toMatch(/mirror\.yaml:2: environments\[0\]: give python, r, or both/);

    const twice = configError(
      `environments:\n  - { name: a, r: "4.3", distribution: jammy }\n  - { name: a, r: "4.4", distribution: jammy }\n${SOURCES}`,
    );
    expect(twice.message).toMatch(/mirror\.yaml:\d+: environments\[1\]\.name: 'a' is used twice/);
  });

  it('reads environments-from a Connect runtimes.yaml beside the config, noting skipped images', () => {
    copyFileSync(
      fileURLToPath(new URL('../../samples/runtimes.yaml', import.meta.url)),
      join(dir, 'runtimes.yaml'),
    );
    const path = join(dir, 'mirror.yaml');
    writeFileSync(path, `environments-from: runtimes.yaml\n${SOURCES}`);
    const config = loadConfig(path);
    expect(config.environments.map((e) => [e.python, e.r, e.distribution])).toEqual([
      ['3.11.9', '4.3.3', 'jammy'],
      ['3.12.4', '4.4.1', 'jammy'],
    ]);
    expect(config.environmentNotes).toEqual([
      `${join(dir, 'runtimes.yaml')}: image my-org/legacy:r3.6.3-py3.8.8-bionic skipped: matching: none (disabled in Connect)`,
    ]);
    const source = config.sources[0]!;
    expect(source.type === 'cran-binary' && source.r).toEqual(['4.3', '4.4']);

    writeFileSync(path, `environments-from: nope.yaml\n${SOURCES}`);
    expect(() => loadConfig(path)).toThrow(
      /mirror\.yaml:1: environments-from: .*nope\.yaml does not exist/,
    );
  });

  it('refuses a malformed runtimes.yaml with its line', () => {
    writeFileSync(
      join(dir, 'bad-runtimes.yaml'),
      'name: Kubernetes\nimages:\n  - name: x-jammy\n    python:\n      installations:\n        - { path: /opt/python, version: three }\n',
    );
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, `environments-from: bad-runtimes.yaml\n${SOURCES}`);
    expect(() => loadConfig(path)).toThrow(
      /bad-runtimes\.yaml:3: image x-jammy: python installation has no valid version/,
    );
  });
});
