import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load-config.js';
import { servedTemplate, snapshotUrl } from '../../src/config/served-path.js';
import { ConfigError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'airlock-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configError(text: string): ConfigError {
  try {
    parseConfig(text, '/etc/airlock/mirror.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const GOOD = `
upstream: https://pm.example.com/
concurrency: 4
sources:
  - name: cran
    type: cran
    url: cran/{snapshot}
    snapshot: 2026-11-01
    packages: [ggplot2, dplyr]
  - name: cran-jammy
    type: cran-binary
    url: cran/__linux__/jammy/{snapshot}
    distribution: jammy
    r: ["4.3", 4.4]
    snapshot: 2026-11-01
  - name: pypi
    type: pypi
    url: pypi/{snapshot}/simple
    snapshot: latest
    packages: ["requests>=2.31,<3", numpy]
`;

describe('config', () => {
  it('reads every documented key of DESIGN.md into typed values', () => {
    const c = parseConfig(GOOD, '/etc/airlock/mirror.yaml');
    expect(c.upstream).toBe('https://pm.example.com');
    expect(c.concurrency).toBe(4);
    expect(c.sources.map((s) => s.name)).toEqual(['cran', 'cran-jammy', 'pypi']);
    const bin = c.sources[1]!;
    expect(bin.type === 'cran-binary' && bin.r).toEqual(['4.3', '4.4']);
    expect(c.sources[0]!.snapshot).toBe('2026-11-01');
    expect(c.sources[2]!.packages).toEqual(['requests>=2.31,<3', 'numpy']);
  });

  it('reads JSON configs too', () => {
    const path = join(dir, 'mirror.json');
    writeFileSync(
      path,
      JSON.stringify({ sources: [{ name: 'pypi', type: 'pypi', url: 'https://pypi.org/simple' }] }),
    );
    const c = loadConfig(path);
    expect(c.sources[0]!.snapshot).toBe('latest');
  });

  it('names the file, line and key of an unknown key and suggests the right one', () => {
    const err = configError(GOOD.replace('packages: [ggplot2, dplyr]', 'pakages: [ggplot2]'));
    expect(err.message).toContain(
      '/etc/airlock/mirror.yaml:9: sources[0].pakages: unknown key "pakages"',
    );
    expect(err.hint).toContain('did you mean "packages"');
    expect(err.exitCode).toBe(2);
  });

  it('refuses a wrong type with the key path', () => {
    const err = configError(GOOD.replace('concurrency: 4', 'concurrency: lots'));
    expect(err.message).toMatch(/mirror\.yaml:3: concurrency: expected a whole number/);
  });

  it('refuses a bad snapshot and says how to write one', () => {
    const err = configError(GOOD.replace('snapshot: 2026-11-01', 'snapshot: 2026-13-01'));
    expect(err.message).toContain('sources[0].snapshot: "2026-13-01" is not a snapshot');
    expect(err.hint).toContain('YYYY-MM-DD');
  });

  it('refuses a bad URL, a relative URL without upstream, and an unknown source type', () => {
    expect(configError(GOOD.replace('https://pm.example.com/', 'ftp://pm')).message).toContain(
      'upstream: "ftp://pm" is not an http(s) URL',
    );
    expect(configError(GOOD.replace('upstream: https://pm.example.com/', '')).message).toContain(
      'is relative but no upstream is set',
    );
    expect(configError(GOOD.replace('type: pypi', 'type: conda')).hint).toContain(
      'cran, cran-binary, pypi',
    );
  });

  it('refuses duplicate names, missing sources, and broken YAML with its line', () => {
    expect(configError(GOOD.replace('name: pypi', 'name: cran')).message).toContain(
      'duplicate source name',
    );
    expect(configError('upstream: https://x\n').message).toContain('sources: is required');
    expect(configError('sources:\n  - name: [\n').message).toMatch(
      /mirror\.yaml:\d+: not valid YAML/,
    );
  });

  it('says which file could not be read', () => {
    expect(() => loadConfig(join(dir, 'nope.yaml'))).toThrow(/cannot read config .*nope\.yaml/);
  });
});

describe('served paths', () => {
  it('serves a snapshot at the path it had upstream, or under /{name}/{snapshot}/ without one', () => {
    const c = parseConfig(GOOD, '/x.yaml');
    expect(c.sources.map(servedTemplate)).toEqual([
      'cran/{snapshot}',
      'cran/__linux__/jammy/{snapshot}',
      'pypi/{snapshot}/simple',
    ]);
    const plain = parseConfig(
      'sources:\n  - {name: cloud, type: cran, url: "https://cloud.r-project.org"}\n  - {name: pypi, type: pypi, url: "https://pypi.org/simple/"}\n',
      '/x.yaml',
    );
    expect(plain.sources.map(servedTemplate)).toEqual([
      'cloud/{snapshot}',
      'pypi/{snapshot}/simple',
    ]);
    expect(snapshotUrl(c.sources[0]!, c.upstream, '2026-11-01')).toBe(
      'https://pm.example.com/cran/2026-11-01/',
    );
    expect(snapshotUrl(plain.sources[0]!, undefined, 'latest')).toBe(
      'https://cloud.r-project.org/',
    );
  });
});
