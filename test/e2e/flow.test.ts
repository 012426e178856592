import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAirlock } from '../helpers/cli.js';
import {
  fixtureConfig,
  withUpstream,
  writeConfig,
  type TestUpstream,
} from '../helpers/upstream.js';

let t: TestUpstream;
beforeAll(async () => {
  t = await withUpstream();
});
afterAll(async () => t?.close());

function manifestIn(dir: string): string {
  return join(
    dir,
    readdirSync(dir).find((f) => f.endsWith('.manifest.json'))!,
  );
}

async function ok(args: string[]): Promise<string> {
  const res = await runAirlock(args);
  expect(res.code, `airlock ${args.join(' ')}\n${res.stderr}`).toBe(0);
  return res.stdout;
}

describe('the operator flow, command by command', () => {
  it('downloads, bundles in signed parts, verifies, imports, then carries the next snapshot as a delta', async () => {
    const root = t.tempDir('flow');
    const ws = join(root, 'ws');
    const repo = join(root, 'repo');
    const key = join(root, 'site');
    await ok(['keygen', '--out', key]);
    expect(
      execFileSync('stat', ['-c', '%a', `${key}.key`])
        .toString()
        .trim(),
    ).toBe('600');

    await ok([
      'download',
      '--config',
      writeConfig(root, fixtureConfig(t.upstream.url, '2026-11-01'), 'a.yaml'),
      '--workspace',
      ws,
    ]);
    const usb1 = join(root, 'usb1');
    execFileSync('mkdir', ['-p', usb1]);
    const bundle1 = JSON.parse(
      await ok([
        'bundle',
        '--workspace',
        ws,
        '--out',
        usb1,
        '--max-part-size',
        '24K',
        '--sign-key',
        `${key}.key`,
        '--json',
      ]),
    ) as {
      id: string;
      parent: string | null;
      parts: Array<{ name: string; size: number }>;
    };
    expect(bundle1.parent).toBeNull();
    expect(bundle1.parts.length).toBeGreaterThan(2);
    for (const p of bundle1.parts) expect(p.size).toBeLessThanOrEqual(24 * 1024);

    // The far side may have no airlock yet: plain tools check and read the bundle.
    execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: usb1, stdio: 'pipe' });
    const listing = execFileSync('sh', ['-c', 'cat *.part* | tar -t'], { cwd: usb1 })
      .toString()
      .split('\n');
    expect(listing[0]).toBe('index.ndjson');
    expect(listing.filter((l) => l.startsWith('blobs/')).length).toBeGreaterThan(20);

    const m1 = manifestIn(usb1);
    const verified = JSON.parse(await ok(['verify', m1, '--trust', `${key}.pub`, '--json'])) as {
      signature: string;
      ok: boolean;
    };
    expect(verified).toMatchObject({ ok: true, signature: 'verified' });
    await ok(['import', m1, '--repo', repo, '--trust', `${key}.pub`]);
    const again = await ok(['import', m1, '--repo', repo, '--trust', `${key}.pub`]);
    expect(again).toContain('already imported');
    await ok(['check', '--repo', repo, '--deep']);

    // Next night: the later snapshot travels as a delta that names its parent.
    await ok([
      'download',
      '--config',
      writeConfig(root, fixtureConfig(t.upstream.url, '2026-11-15'), 'b.yaml'),
      '--workspace',
      ws,
    ]);
    const usb2 = join(root, 'usb2');
    execFileSync('mkdir', ['-p', usb2]);
    const bundle2 = JSON.parse(
      await ok(['bundle', '--workspace', ws, '--out', usb2, '--sign-key', `${key}.key`, '--json']),
    ) as {
      parent: string;
      blobCount: number;
    };
    expect(bundle2.parent).toBe(bundle1.id);
    expect(bundle2.blobCount).toBeLessThan(30);
    const nothing = JSON.parse(
      await ok(['bundle', '--workspace', ws, '--out', usb2, '--json']),
    ) as { nothingNew: boolean };
    expect(nothing.nothingNew).toBe(true);

    await ok(['import', manifestIn(usb2), '--repo', repo, '--trust', `${key}.pub`]);
    const status = JSON.parse(await ok(['status', '--repo', repo, '--json'])) as {
      sources: Array<{ name: string; latest: string; snapshots: Array<{ id: string }> }>;
      bundles: Array<{ id: string }>;
    };
    expect(status.sources.map((s) => [s.name, s.latest, s.snapshots.map((x) => x.id)])).toEqual([
      ['cran', '2026-11-15', ['2026-11-01', '2026-11-15']],
      ['cran-jammy', '2026-11-15', ['2026-11-01', '2026-11-15']],
      ['pypi', '2026-11-15', ['2026-11-01', '2026-11-15']],
    ]);
    expect(status.bundles).toHaveLength(2);
    await ok(['check', '--repo', repo, '--deep']);
  });

  it('refuses a tampered bundle with exit 4 before anything reaches the repository', async () => {
    const root = t.tempDir('tamper');
    const ws = join(root, 'ws');
    await ok([
      'download',
      '--config',
      writeConfig(root, fixtureConfig(t.upstream.url, '2026-11-01', { sources: ['cran'] })),
      '--workspace',
      ws,
    ]);
    const usb = join(root, 'usb');
    execFileSync('mkdir', ['-p', usb]);
    await ok(['bundle', '--workspace', ws, '--out', usb, '--max-part-size', '12K']);
    const part = join(
      usb,
      readdirSync(usb).find((f) => f.endsWith('.part002'))!,
    );
    const bytes = readFileSync(part);
    bytes[700] = bytes[700]! ^ 0xff;
    writeFileSync(part, bytes);
    const verify = await runAirlock(['verify', manifestIn(usb)]);
    expect(verify.code).toBe(4);
    expect(verify.stderr).toMatch(/part 2 of \d+/);
    const imported = await runAirlock(['import', manifestIn(usb), '--repo', join(root, 'repo')]);
    expect(imported.code).toBe(4);
    const status = await runAirlock(['status', '--repo', join(root, 'repo'), '--json']);
    expect(
      status.code === 2 ||
        (JSON.parse(status.stdout) as { sources: unknown[] }).sources.length === 0,
    ).toBe(true);
  });

  it('runs the demo from start to import', async () => {
    const dir = t.tempDir('demo');
    const res = await runAirlock(['demo', '--dir', dir, '--no-serve']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('delta of');
    expect(res.stdout).toMatch(/imported .* into/);
  });
});
