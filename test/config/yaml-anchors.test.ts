import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/errors.js';

const FILE = '/etc/airlock/mirror.yaml';

function configError(text: string): ConfigError {
  try {
    parseConfig(text, FILE);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('YAML anchors, aliases and merge keys in a config', () => {
  it('reads a scalar through an alias: snapshot: *s', () => {
    const c = parseConfig(
      `
upstream: https://pm.example.com
sources:
  - name: cran
    type: cran
    url: cran/{snapshot}
    snapshot: &s 2026-11-01
  - name: pypi
    type: pypi
    url: pypi/{snapshot}/simple
    snapshot: *s
    packages: &pkgs [requests]
`,
      FILE,
    );
    expect(c.sources.map((s) => s.snapshot)).toEqual(['2026-11-01', '2026-11-01']);
    expect(c.sources[1]!.packages).toEqual(['requests']);
  });

  it('reads sources built with a merge key (- <<: *base), their own keys winning', () => {
    const c = parseConfig(
      `
upstream: https://pm.example.com
sources:
  - &base
    name: jammy
    type: cran-binary
    url: cran/__linux__/jammy/{snapshot}
    distribution: jammy
    r: ["4.3", "4.4"]
    snapshot: 2026-11-01
  - <<: *base
    name: jammy-old
    snapshot: 2026-10-01
    r: ["4.2"]
`,
      FILE,
    );
    expect(c.sources.map((s) => [s.name, s.snapshot, s.type === 'cran-binary' && s.r])).toEqual([
      ['jammy', '2026-11-01', ['4.3', '4.4']],
      ['jammy-old', '2026-10-01', ['4.2']],
    ]);
    expect(c.sources[1]!.url).toBe('cran/__linux__/jammy/{snapshot}');
  });

  it('takes anchors from x- keys at the top level, which are otherwise ignored', () => {
    const c = parseConfig(
      `
upstream: https://pm.example.com
x-defaults: &defaults
  type: pypi
  snapshot: 2026-11-01
  sdists: never
sources:
  - <<: *defaults
    name: pypi
    url: pypi/{snapshot}/simple
  - <<: [*defaults]
    name: pypi-test
    url: pypi-test/{snapshot}/simple
`,
      FILE,
    );
    expect(c.sources.map((s) => [s.name, s.snapshot, s.type === 'pypi' && s.sdists])).toEqual([
      ['pypi', '2026-11-01', 'never'],
      ['pypi-test', '2026-11-01', 'never'],
    ]);
  });

  it('names the line of a bad value where it is anchored', () => {
    const err = configError(`upstream: https://pm.example.com
sources:
  - name: cran
    type: cran
    url: cran/{snapshot}
    snapshot: &s 2026-13-45
  - name: pypi
    type: pypi
    url: pypi/{snapshot}/simple
    snapshot: *s
`);
    // The first use is at line 6 (the anchor itself).
    expect(err.message).toMatch(/^\/etc\/airlock\/mirror\.yaml:6: sources\[0\]\.snapshot: /);
  });

  it('names the line of a bad key that came in through a merge, and the merge', () => {
    const err = configError(`upstream: https://pm.example.com
x-base: &base
  type: pypi
  snapshot: 2026-11-01
  sdist: never
sources:
  - name: pypi
    <<: *base
    url: pypi/{snapshot}/simple
`);
    expect(err.message).toContain('mirror.yaml:5: sources[0].sdist: unknown key "sdist"');
    expect(err.message).toContain('merged at line 8');
  });

  it('names the line of a bad value reached through an alias, and the alias', () => {
    const err = configError(`upstream: https://pm.example.com
x-snap: &s 2026-13-45
sources:
  - name: pypi
    type: pypi
    url: pypi/{snapshot}/simple
    snapshot: *s
`);
    expect(err.message).toContain('mirror.yaml:7: sources[0].snapshot');
    expect(err.message).toContain('&s at line 2');
  });
});
