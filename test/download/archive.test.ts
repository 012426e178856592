import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Workspace } from '../../src/workspace/workspace.js';
import { runAirlock } from '../helpers/cli.js';
import { withUpstream, writeConfig, type TestUpstream } from '../helpers/upstream.js';

let t: TestUpstream;
beforeAll(async () => {
  t = await withUpstream();
});
afterAll(async () => t?.close());

describe('archive: true', () => {
  it('also carries the older versions listed in Archive/{pkg}/ (which PACKAGES never lists)', async () => {
    const ws = t.tempDir('ws');
    const cfg = writeConfig(
      ws,
      `upstream: ${t.upstream.url}\nsources:\n  - { name: cran, type: cran, url: "cran/{snapshot}", snapshot: 2026-11-15, packages: [airA], archive: true }\n`,
    );
    const res = await runAirlock(['download', '--config', cfg, '--workspace', ws]);
    expect(res.code, res.stderr).toBe(0);
    const archived = t.catalog.sources.cran.snapshots['2026-11-15']!.files.find(
      (f) => f.kind === 'r-archive' && f.package === 'airA',
    );
    expect(archived).toBeDefined();
    const w = Workspace.open(ws);
    try {
      const entries = [...w.entries({ source: 'cran', snapshot: '2026-11-15' })];
      const entry = entries.find((e) => e.path === 'src/contrib/Archive/airA/airA_1.0.tar.gz');
      expect(entry?.sha256).toBe(archived!.sha256);
      expect(entry?.version).toBe('1.0');
      // The current version and the closure are carried as before.
      expect(entries.some((e) => e.path === 'src/contrib/airA_1.1.tar.gz')).toBe(true);
      expect(entries.some((e) => e.path === 'src/contrib/airB_1.0.tar.gz')).toBe(true);
    } finally {
      w.close();
    }
  });

  it('carries an renv.lock pin of a version that exists only in Archive/ from there, and only that', async () => {
    const ws = t.tempDir('ws');
    writeFileSync(
      join(ws, 'renv.lock'),
      JSON.stringify({
        R: { Version: '4.3.2' },
        Packages: { airA: { Package: 'airA', Version: '1.0', Source: 'Repository' } },
      }),
    );
    const source = (archive: boolean) =>
      `upstream: ${t.upstream.url}\nsources:\n  - { name: cran, type: cran, url: "cran/{snapshot}", snapshot: 2026-11-15, renv-lock: renv.lock, archive: ${archive} }\n`;
    // Without archive: true the pin cannot be met: the message says what would help.
    const refused = await runAirlock([
      'download',
      '--config',
      writeConfig(ws, source(false)),
      '--workspace',
      ws,
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('airA (== 1.0) not satisfiable');
    expect(refused.stderr).toContain('archive: true also considers older versions');

    const res = await runAirlock([
      'download',
      '--config',
      writeConfig(ws, source(true)),
      '--workspace',
      ws,
    ]);
    expect(res.code, res.stderr).toBe(0);
    const archived = t.catalog.sources.cran.snapshots['2026-11-15']!.files.find(
      (f) => f.kind === 'r-archive' && f.package === 'airA' && f.version === '1.0',
    );
    const w = Workspace.open(ws);
    try {
      const entries = [...w.entries({ source: 'cran', snapshot: '2026-11-15' })];
      const entry = entries.find((e) => e.path === 'src/contrib/Archive/airA/airA_1.0.tar.gz');
      expect(entry?.sha256).toBe(archived!.sha256);
      // The pin asked for 1.0: the current 1.1 is not carried.
      expect(entries.some((e) => e.path === 'src/contrib/airA_1.1.tar.gz')).toBe(false);
    } finally {
      w.close();
    }
  });

  it('a pin that is neither current nor in Archive/ is refused naming what there is', async () => {
    const ws = t.tempDir('ws');
    writeFileSync(
      join(ws, 'renv.lock'),
      JSON.stringify({ Packages: { airA: { Package: 'airA', Version: '0.5' } } }),
    );
    const cfg = writeConfig(
      ws,
      `upstream: ${t.upstream.url}\nsources:\n  - { name: cran, type: cran, url: "cran/{snapshot}", snapshot: 2026-11-15, renv-lock: renv.lock, archive: true }\n`,
    );
    const res = await runAirlock(['download', '--config', cfg, '--workspace', ws, '--dry-run']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('airA (== 0.5) is neither current nor in Archive/airA/');
    expect(res.stderr).toContain('1.0 (Archive)');
  });
});
