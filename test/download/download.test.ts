import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FixtureFile } from '../../src/fixture/catalog.js';
import { Workspace } from '../../src/workspace/workspace.js';
import { collect, runAirlock, startAirlock } from '../helpers/cli.js';
import {
  fixtureConfig,
  withUpstream,
  writeConfig,
  type TestUpstream,
} from '../helpers/upstream.js';

const SNAP1 = '2026-11-01';
const SNAP2 = '2026-11-15';
const PAYLOAD_KINDS = new Set(['r-package', 'wheel', 'sdist', 'core-metadata']);

let t: TestUpstream;
beforeAll(async () => {
  t = await withUpstream();
});
afterAll(async () => t?.close());
beforeEach(() => {
  t.upstream.clearFaults();
  t.upstream.resetLog();
});

/** What the workspace recorded for each snapshot: path|variant -> sha256. */
function recorded(workspace: string): Map<string, Map<string, string>> {
  const ws = Workspace.open(workspace);
  try {
    const out = new Map<string, Map<string, string>>();
    for (const s of ws.listSnapshots()) {
      const m = new Map<string, string>();
      for (const e of ws.entries(s)) m.set(`${e.path}|${e.variant}`, e.sha256);
      out.set(`${s.source}/${s.snapshot}${s.complete ? '' : ' (incomplete)'}`, m);
    }
    return out;
  } finally {
    ws.close();
  }
}

/** Every blob in the workspace is named by the sha256 of its bytes: `sha256sum` would agree. */
function auditBlobs(workspace: string): number {
  let n = 0;
  for (const dir of readdirSync(join(workspace, 'blobs'))) {
    for (const name of readdirSync(join(workspace, 'blobs', dir))) {
      const bytes = readFileSync(join(workspace, 'blobs', dir, name));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(name);
      n++;
    }
  }
  return n;
}

function payload(source: 'cran' | 'cran-binary' | 'pypi', snapshot: string): FixtureFile[] {
  return t.catalog.sources[source].snapshots[snapshot]!.files.filter((f) =>
    PAYLOAD_KINDS.has(f.kind),
  );
}

function packageBytesSent(): number {
  return t.upstream.requests
    .filter((r) => /\.(tar\.gz|whl|zip|metadata)$/.test(r.path) && !r.path.endsWith('PACKAGES.gz'))
    .reduce((sum, r) => sum + r.bytesSent, 0);
}

describe('airlock download', () => {
  it('fetches every file of both snapshots, verified, and the second run fetches only what is new', async () => {
    const ws = t.tempDir('ws');
    const cfg1 = writeConfig(ws, fixtureConfig(t.upstream.url, SNAP1), 'snap1.yaml');
    const first = await runAirlock(['download', '--config', cfg1, '--workspace', ws, '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const summary = JSON.parse(first.stdout) as {
      sources: Array<{ source: string; complete: boolean; failed: number }>;
    };
    expect(summary.sources.map((s) => [s.source, s.complete, s.failed])).toEqual([
      ['cran', true, 0],
      ['cran-jammy', true, 0],
      ['pypi', true, 0],
    ]);

    const rec = recorded(ws);
    const cran = rec.get(`cran/${SNAP1}`)!;
    for (const f of payload('cran', SNAP1).filter((f) => f.kind === 'r-package')) {
      expect(cran.get(`${f.urlPath.slice(`cran/${SNAP1}/`.length)}|`), f.urlPath).toBe(f.sha256);
    }
    const binary = rec.get(`cran-jammy/${SNAP1}`)!;
    const variants = payload('cran-binary', SNAP1).filter((f) => f.kind === 'r-package');
    expect(new Set(variants.map((f) => f.variant))).toEqual(new Set(['', 'R-4.3', 'R-4.4']));
    for (const f of variants) {
      const path = f.urlPath.slice(`cran/__linux__/jammy/${SNAP1}/`.length);
      expect(binary.get(`${path}|${f.variant}`), `${f.urlPath} ${f.variant}`).toBe(f.sha256);
    }
    const pypi = rec.get(`pypi/${SNAP1}`)!;
    for (const f of payload('pypi', SNAP1)) {
      const name = f.kind === 'core-metadata' ? `${f.filename}` : f.filename!;
      const hit = [...pypi].find(([k]) => k.endsWith(`/${name}|`));
      expect(hit?.[1], name).toBe(f.sha256);
    }
    // Index files travel too: PACKAGES and PACKAGES.gz per variant, a page per project.
    expect(cran.has('src/contrib/PACKAGES|')).toBe(true);
    expect(cran.has('src/contrib/PACKAGES.gz|')).toBe(true);
    expect(binary.has('src/contrib/PACKAGES.gz|R-4.3')).toBe(true);
    expect([...pypi.keys()].some((k) => k === 'alpha/|')).toBe(true);
    auditBlobs(ws);

    // The later snapshot: unchanged files are byte-identical, so only new ones cross the wire.
    t.upstream.resetLog();
    const cfg2 = writeConfig(ws, fixtureConfig(t.upstream.url, SNAP2), 'snap2.yaml');
    const second = await runAirlock(['download', '--config', cfg2, '--workspace', ws, '--json']);
    expect(second.code).toBe(0);
    const known = new Set([...rec.values()].flatMap((m) => [...m.values()]));
    const fresh = new Map<string, number>();
    for (const source of ['cran', 'cran-binary', 'pypi'] as const) {
      for (const f of payload(source, SNAP2))
        if (!known.has(f.sha256)) fresh.set(`${f.urlPath}|${f.variant}`, f.size);
    }
    expect(fresh.size).toBeGreaterThan(0);
    const freshBytes = [...fresh.values()].reduce((a, b) => a + b, 0);
    expect(packageBytesSent()).toBeGreaterThan(0);
    expect(packageBytesSent()).toBeLessThanOrEqual(freshBytes);
    const after = recorded(ws);
    expect(after.has(`cran/${SNAP2}`)).toBe(true);
    expect(after.has(`cran/${SNAP1}`)).toBe(true);
    auditBlobs(ws);
  });

  it('survives resets on most requests by resuming, sending well under twice the payload', async () => {
    // Files big enough to be resumed (small ones simply restart: a Range costs more than it saves).
    const big = await withUpstream({
      scale: { smallFiles: 12, largeFiles: [1_500_000, 3_000_000] },
    });
    try {
      const ws = big.tempDir('ws');
      const yaml = fixtureConfig(big.upstream.url, SNAP1, {
        sources: ['pypi', 'cran'],
        packages: { pypi: ['bulk', 'alpha'] },
      });
      const cfg = writeConfig(ws, yaml);
      // The large files certainly get reset a few times (so resume is exercised), the rest at random.
      big.upstream.setFaults([
        { match: /bulk-2\./, kind: { type: 'reset', afterBytes: 300_000 }, times: 4 },
        {
          match: /\.(whl|tar\.gz)$/,
          kind: { type: 'reset', afterBytes: 300_000 },
          probability: 0.7,
        },
      ]);
      const res = await runAirlock(['download', '--config', cfg, '--workspace', ws, '--json']);
      expect(res.code, res.stderr).toBe(0);
      expect(big.upstream.requests.filter((r) => r.fault).length).toBeGreaterThan(2);
      expect(big.upstream.requests.some((r) => r.range !== undefined && r.status === 206)).toBe(
        true,
      );
      const sent = big.upstream.requests
        .filter((r) => /\.(whl|tar\.gz)$/.test(r.path))
        .reduce((a, r) => a + r.bytesSent, 0);
      const summary = JSON.parse(res.stdout) as {
        sources: Array<{ bytes: number; complete: boolean }>;
      };
      const total = summary.sources.reduce((a, s) => a + s.bytes, 0);
      expect(summary.sources.every((s) => s.complete)).toBe(true);
      expect(sent).toBeLessThan(2 * total);
      auditBlobs(ws);
    } finally {
      await big.close();
    }
  });

  it('finishes after a SIGKILL mid-run with the same result as an uninterrupted run', async () => {
    const clean = t.tempDir('clean');
    const cfgClean = writeConfig(clean, fixtureConfig(t.upstream.url, SNAP1));
    expect((await runAirlock(['download', '--config', cfgClean, '--workspace', clean])).code).toBe(
      0,
    );

    const ws = t.tempDir('killed');
    const cfg = writeConfig(ws, fixtureConfig(t.upstream.url, SNAP1, { concurrency: 2 }));
    // Slow the run down so the kill lands mid-transfer, with some files done and some partial.
    const child = startAirlock([
      'download',
      '--config',
      cfg,
      '--workspace',
      ws,
      '--limit-rate',
      '64K',
    ]);
    const done = collect(child);
    await waitFor(() => countBlobs(ws) >= 8, 30_000);
    child.kill('SIGKILL');
    const killed = await done;
    expect(killed.signal).toBe('SIGKILL');

    const rerun = await runAirlock(['download', '--config', cfg, '--workspace', ws]);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(recorded(ws)).toEqual(recorded(clean));
    auditBlobs(ws);
    expect(existsSync(join(ws, 'lock'))).toBe(false);
  });

  it('reports a corrupted file with exit 4, never stores it, keeps the rest, and a later run completes', async () => {
    const ws = t.tempDir('ws');
    const cfg = writeConfig(ws, fixtureConfig(t.upstream.url, SNAP1, { sources: ['cran'] }));
    t.upstream.setFaults([{ match: /airB_1\.0\.tar\.gz$/, kind: { type: 'corrupt' } }]);
    const res = await runAirlock(['download', '--config', cfg, '--workspace', ws]);
    expect(res.code).toBe(4);
    expect(res.stdout + res.stderr).toMatch(/airB_1\.0\.tar\.gz/);
    const airB = payload('cran', SNAP1).find((f) => f.urlPath.endsWith('airB_1.0.tar.gz'))!;
    expect(existsSync(join(ws, 'blobs', airB.sha256.slice(0, 2), airB.sha256))).toBe(false);
    const rec = recorded(ws);
    const partial = rec.get(`cran/${SNAP1} (incomplete)`)!;
    expect(partial.size).toBeGreaterThan(3);
    expect(partial.has('src/contrib/airB_1.0.tar.gz|')).toBe(false);
    auditBlobs(ws);

    t.upstream.clearFaults();
    t.upstream.resetLog();
    const again = await runAirlock(['download', '--config', cfg, '--workspace', ws]);
    expect(again.code).toBe(0);
    expect(recorded(ws).get(`cran/${SNAP1}`)!.get('src/contrib/airB_1.0.tar.gz|')).toBe(
      airB.sha256,
    );
    // Only the file that failed was fetched again.
    const fetched = t.upstream.requests.filter(
      (r) => r.path.endsWith('.tar.gz') && !r.path.includes('PACKAGES'),
    );
    expect(fetched.map((r) => r.path)).toEqual([`/cran/${SNAP1}/src/contrib/airB_1.0.tar.gz`]);
  });

  it('falls back to PACKAGES when PACKAGES.gz is missing, and names a project the index lacks', async () => {
    const ws = t.tempDir('ws');
    t.upstream.setFaults([
      {
        match: /\/cran\/2026-11-01\/src\/contrib\/PACKAGES\.gz$/,
        kind: { type: 'status', status: 404 },
      },
    ]);
    const cfg = writeConfig(ws, fixtureConfig(t.upstream.url, SNAP1, { sources: ['cran'] }));
    const ok = await runAirlock(['download', '--config', cfg, '--workspace', ws]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(
      t.upstream.requests.some(
        (r) => r.path === `/cran/${SNAP1}/src/contrib/PACKAGES` && r.status === 200,
      ),
    ).toBe(true);

    const cfgMissing = writeConfig(
      ws,
      fixtureConfig(t.upstream.url, SNAP1, {
        sources: ['pypi'],
        packages: { pypi: ['alpha', 'no-such-project'] },
      }),
      'missing.yaml',
    );
    const missing = await runAirlock(['download', '--config', cfgMissing, '--workspace', ws]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no-such-project not in pypi/2026-11-01');
    expect(missing.stderr).toContain('allow-missing');
  });

  it('plans without fetching any package file on --dry-run', async () => {
    const ws = t.tempDir('ws');
    const cfg = writeConfig(ws, fixtureConfig(t.upstream.url, SNAP1, { sources: ['pypi'] }));
    const res = await runAirlock([
      'download',
      '--config',
      cfg,
      '--workspace',
      ws,
      '--dry-run',
      '--json',
    ]);
    expect(res.code, res.stderr).toBe(0);
    const plan = JSON.parse(res.stdout) as {
      dryRun: boolean;
      sources: Array<{ files: number; new: number; bytes: number; unknownSizes: number }>;
    };
    expect(plan.dryRun).toBe(true);
    const files = payload('pypi', SNAP1);
    expect(plan.sources[0]!.files).toBe(files.length);
    expect(plan.sources[0]!.new).toBe(files.length);
    // PyPI publishes sizes of distributions, not of PEP 658 metadata files.
    const metadata = files.filter((f) => f.kind === 'core-metadata');
    expect(plan.sources[0]!.unknownSizes).toBe(metadata.length);
    expect(plan.sources[0]!.bytes).toBe(
      files.filter((f) => f.kind !== 'core-metadata').reduce((a, f) => a + f.size, 0),
    );
    expect(t.upstream.requests.filter((r) => /\.(whl|tar\.gz)$/.test(r.path))).toEqual([]);
  });

  it('refuses a bad config with exit 2 and a message naming file, key and fix', async () => {
    const ws = t.tempDir('ws');
    const cfg = writeConfig(
      ws,
      fixtureConfig(t.upstream.url, SNAP1).replace('distribution: jammy', 'distro: jammy'),
    );
    const res = await runAirlock(['download', '--config', cfg, '--workspace', ws]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/mirror\.yaml:\d+: sources\[1\]\.distro: unknown key "distro"/);
    expect(res.stderr).toContain('hint:');
    const usage = await runAirlock(['download', '--workspace', ws]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('config');
  });

  it('lets one run at a time use a workspace', async () => {
    const ws = t.tempDir('ws');
    const cfg = writeConfig(ws, fixtureConfig(t.upstream.url, SNAP1, { concurrency: 1 }));
    const slow = startAirlock([
      'download',
      '--config',
      cfg,
      '--workspace',
      ws,
      '--limit-rate',
      // 4 KiB/s: the ~40 KiB payload takes ~10 s, far longer than starting a second process.
      '4K',
    ]);
    const slowDone = collect(slow);
    await waitFor(() => existsSync(join(ws, 'lock')), 20_000);
    const second = await runAirlock(['download', '--config', cfg, '--workspace', ws]);
    expect(second.code).toBe(5);
    expect(second.stderr).toMatch(/workspace is in use by airlock download \(pid \d+/);
    slow.kill('SIGTERM');
    const stopped = await slowDone;
    expect(stopped.code).toBe(143);
    expect(existsSync(join(ws, 'lock'))).toBe(false);
  });
});

function countBlobs(ws: string): number {
  const root = join(ws, 'blobs');
  if (!existsSync(root)) return 0;
  return readdirSync(root).reduce((n, d) => n + readdirSync(join(root, d)).length, 0);
}

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
