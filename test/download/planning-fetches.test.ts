/**
 * `--dry-run` on an upstream without PEP 658 metadata must fetch whole distributions to read
 * their dependencies. Those planning fetches are real: they obey --limit-rate and the
 * free-space check, they are announced before the first byte and reported as what they are
 * (not as "already present"), and `--metadata-fetch never` forbids them, reporting the
 * dependencies of those files as unknown. The fixture's `bulk` wheels have no PEP 658 file.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canMount, mountTmpfs, unmount } from '../helpers/tmpfs.js';
import { withUpstream, type TestUpstream } from '../helpers/upstream.js';
import { configDir, download, PYPI, type SourcePlanJson } from '../select-download/plan-harness.js';

const SMALL = 300 * 1024;
const LARGE = 4 * 1024 * 1024;

let t: TestUpstream;
beforeAll(async () => {
  t = await withUpstream({ scale: { largeFiles: [SMALL, LARGE] } });
}, 120_000);
afterAll(async () => t?.close());

interface MetadataFetchesJson {
  files: number;
  bytes: number;
  transferred: number;
  withheld: number;
  withheldBytes: number;
}
type PlanSource = SourcePlanJson & { metadataFetches: MetadataFetchesJson };

const wheelRequests = (version: string) =>
  t.upstream.requests.filter((r) => r.path.endsWith(`/bulk-${version}-py3-none-any.whl`)).length;

function bulkConfig(requirement: string): string {
  return configDir(t, '', [PYPI(`    packages: ["${requirement}"]\n`)]);
}

describe('planning fetches (no PEP 658 metadata upstream)', () => {
  it('are announced before they start and reported as planning fetches, not as present', async () => {
    const dir = bulkConfig('bulk==2.1');
    const dry = await download(dir, '--dry-run', '--json');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(
      /pypi: planning must fetch whole distributions to read their dependencies \(the upstream has no PEP 658 metadata for them; first: bulk-2\.1-py3-none-any\.whl, 300(\.0)? KiB\).*--metadata-fetch never/,
    );
    const plan = (JSON.parse(dry.stdout) as { sources: PlanSource[] }).sources[0]!;
    expect(plan.metadataFetches).toMatchObject({ files: 1, bytes: SMALL, transferred: SMALL });

    // A real run on a fresh workspace: the file planning fetched is not passed off as present.
    const fresh = bulkConfig('bulk==2.1');
    const run = await download(fresh);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /0 fetched, 1 already present \(1 of them fetched while planning to read their dependencies, 300(\.0)? KiB transferred\)/,
    );
    expect(run.stdout).toMatch(/planning fetched 1 distribution\(s\), 300(\.0)? KiB/);
  });

  it('obey --limit-rate', async () => {
    const dir = bulkConfig('bulk==2.1');
    const started = Date.now();
    const dry = await download(dir, '--dry-run', '--limit-rate', '100K');
    const seconds = (Date.now() - started) / 1000;
    expect(dry.code, dry.stderr).toBe(0);
    // 300 KiB at 100 KiB/s with a 64 KiB burst: at least 2.3 s of transfer.
    expect(seconds).toBeGreaterThan(2.2);
  });

  it('are forbidden by --metadata-fetch never, which reports those dependencies as unknown', async () => {
    const dir = bulkConfig('bulk==2.1');
    const before = wheelRequests('2.1');
    const dry = await download(dir, '--dry-run', '--json', '--metadata-fetch', 'never');
    expect(dry.code, dry.stderr).toBe(0);
    expect(wheelRequests('2.1')).toBe(before);
    const plan = (JSON.parse(dry.stdout) as { sources: PlanSource[] }).sources[0]!;
    expect(plan.metadataFetches).toMatchObject({ files: 0, withheld: 1, withheldBytes: SMALL });
    expect(plan.problems).toEqual([
      expect.objectContaining({
        requirement: 'bulk-2.1-py3-none-any.whl',
        why: expect.stringMatching(/dependencies are unknown: .*--metadata-fetch never/),
      }),
    ]);
    const plain = await download(dir, '--dry-run', '--metadata-fetch', 'never');
    expect(plain.stdout).toContain(
      'planning did not fetch 1 distribution(s) (300 KiB) to read their dependencies (--metadata-fetch never)',
    );
  });

  it.skipIf(!canMount)('check free space first: "needs X, has Y", exit 5', async (ctx) => {
    const dir = bulkConfig('bulk==2.2');
    const ws = join(dir, 'ws');
    mkdirSync(ws);
    if (!mountTmpfs(ws, 'size=1m')) ctx.skip();
    try {
      const dry = await download(dir, '--dry-run');
      expect(dry.code, dry.stderr).toBe(5);
      expect(dry.stderr).toMatch(
        /planning needs 4(\.0)? MiB to fetch bulk-2\.2-py3-none-any\.whl .* but .* has only .* free/,
      );
      expect(dry.stderr).not.toMatch(/internal error/);
      expect(readdirSync(join(ws, 'tmp')).filter((f) => f.endsWith('.part'))).toEqual([]);
    } finally {
      unmount(ws);
    }
  });
});
