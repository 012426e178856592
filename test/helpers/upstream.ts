/** The fixture upstream for a test file: generated once into a temp dir, served on port 0. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateFixture, type FixtureOptions } from '../../src/fixture/generate.js';
import { startFixtureUpstream, type FixtureUpstream } from '../../src/fixture/server.js';
import type { FixtureCatalog } from '../../src/fixture/catalog.js';

export interface TestUpstream {
  upstream: FixtureUpstream;
  catalog: FixtureCatalog;
  dir: string;
  /** A fresh temp directory, removed by close(). */
  tempDir(prefix: string): string;
  close(): Promise<void>;
}

export async function withUpstream(options: FixtureOptions = {}): Promise<TestUpstream> {
  const root = mkdtempSync(join(tmpdir(), 'airlock-upstream-'));
  const dir = join(root, 'tree');
  const catalog = await generateFixture(dir, options);
  const upstream = await startFixtureUpstream({ dir });
  const temps: string[] = [root];
  return {
    upstream,
    catalog,
    dir,
    tempDir(prefix) {
      const d = mkdtempSync(join(tmpdir(), `airlock-${prefix}-`));
      temps.push(d);
      return d;
    },
    async close() {
      await upstream.close();
      for (const d of temps) rmSync(d, { recursive: true, force: true });
    },
  };
}

/** The config scripts and tests outside the project would write for the fixture (DESIGN.md). */
export function fixtureConfig(
  url: string,
  snapshot: string,
  opts: {
    sources?: Array<'cran' | 'cran-binary' | 'pypi'>;
    extra?: string;
    concurrency?: number;
    packages?: Partial<Record<'cran' | 'cran-binary' | 'pypi', string[]>>;
  } = {},
): string {
  const wanted = new Set(opts.sources ?? ['cran', 'cran-binary', 'pypi']);
  const pk = (name: 'cran' | 'cran-binary' | 'pypi') =>
    opts.packages?.[name] ? `    packages: ${JSON.stringify(opts.packages[name])}\n` : '';
  let yaml = `upstream: ${url}\nconcurrency: ${opts.concurrency ?? 8}\n${opts.extra ?? ''}sources:\n`;
  if (wanted.has('cran'))
    yaml += `  - name: cran\n    type: cran\n    url: cran/{snapshot}\n    snapshot: ${snapshot}\n${pk('cran')}`;
  if (wanted.has('cran-binary')) {
    yaml += `  - name: cran-jammy\n    type: cran-binary\n    url: cran/__linux__/jammy/{snapshot}\n    distribution: jammy\n    r: ["4.3", "4.4"]\n    snapshot: ${snapshot}\n${pk('cran-binary')}`;
  }
  if (wanted.has('pypi'))
    yaml += `  - name: pypi\n    type: pypi\n    url: pypi/{snapshot}/simple\n    snapshot: ${snapshot}\n    versions: all\n${pk('pypi')}`;
  return yaml;
}

export function writeConfig(dir: string, yaml: string, name = 'mirror.yaml'): string {
  const path = join(dir, name);
  writeFileSync(path, yaml);
  return path;
}
