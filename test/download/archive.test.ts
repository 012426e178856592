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
});
