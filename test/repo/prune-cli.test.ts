/**
 * `airlock prune --repo` as scripts run it: exit codes, refusals, the plain report and the
 * JSON summary, on a directory and on S3 (s3rver, through --s3-endpoint).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../src/repo/open-storage.js';
import { readPublished } from '../../src/repo/published.js';
import { runAirlock } from '../helpers/cli.js';
import { buildHistory } from './prune-repo-fixture.js';
import { S3_CREDENTIALS, startS3, type S3Fixture } from './s3rver-fixture.js';

let s3: S3Fixture;
let dir: string;

beforeAll(async () => {
  s3 = await startS3();
  dir = await mkdtemp(join(tmpdir(), 'airlock-prune-cli-'));
}, 60_000);
afterAll(async () => {
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

const S3_ENV = {
  AWS_ACCESS_KEY_ID: S3_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretAccessKey,
};

describe('airlock prune --repo', { timeout: 60_000 }, () => {
  it('refuses what is not a repository, and bad options, with exit 2 and creates nothing', async () => {
    const missing = join(dir, 'typo');
    const res = await runAirlock(['prune', '--repo', missing, '--keep', '3']);
    expect(res.code).toBe(2);
    expect(existsSync(missing)).toBe(false);
    const empty = await mkdtemp(join(dir, 'empty-'));
    const notRepo = await runAirlock(['prune', '--repo', empty, '--keep', '3']);
    expect(notRepo.code).toBe(2);
    expect(notRepo.stderr).toContain('is not an airlock repository');

    const repo = join(dir, 'repo-options');
    await buildHistory(await openStorage(repo, { create: true }));
    for (const args of [
      ['--grace', '24'],
      ['--grace', 'soon'],
      ['--before', '11/01/2026'],
      ['--workspace', dir],
    ]) {
      const bad = await runAirlock(['prune', '--repo', repo, '--keep', '1', ...args]);
      expect(bad.code, args.join(' ')).toBe(2);
    }
  });

  it('reports a dry run in plain lines, then prunes, with the default grace period keeping the files', async () => {
    const repo = join(dir, 'repo-plain');
    const storage = await openStorage(repo, { create: true });
    await buildHistory(storage);
    const dry = await runAirlock(['prune', '--repo', repo, '--keep', '2', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('would unpublish cran/2026-11-01 (beyond --keep)');
    expect(Object.keys((await readPublished(storage))!.sources.cran!.snapshots)).toHaveLength(3);

    const real = await runAirlock(['prune', '--repo', repo, '--keep', '2']);
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout).toContain('unpublished cran/2026-11-01');
    expect(real.stdout).toMatch(
      /waiting for the grace period \(24h\): .* in 2 blobs and 1 snapshot documents/,
    );
    const status = await runAirlock(['status', '--repo', repo]);
    expect(status.stdout).toContain('pruned, waiting for the grace period');
    const check = await runAirlock(['check', '--repo', repo, '--deep']);
    expect(check.code, check.stderr).toBe(0);
  });

  it('prunes an S3 repository and prints one JSON summary', async () => {
    const storage = await s3.open('cli');
    await buildHistory(storage);
    const res = await runAirlock(
      [
        'prune',
        '--repo',
        's3://packages/cli',
        '--s3-endpoint',
        s3.endpoint,
        '--before',
        '2026-11-03',
        '--grace',
        '0',
        '--json',
      ],
      S3_ENV,
    );
    expect(res.code, res.stderr).toBe(0);
    const summary = JSON.parse(res.stdout) as {
      command: string;
      snapshots: { source: string; snapshot: string }[];
      deleted: { blobs: number; documents: number };
    };
    expect(summary.command).toBe('prune');
    expect(summary.snapshots.map((s) => `${s.source}/${s.snapshot}`)).toEqual([
      'cran/2026-11-01',
      'cran/2026-11-02',
    ]);
    expect(summary.deleted).toMatchObject({ blobs: 4, documents: 2 });
    const check = await runAirlock(
      ['check', '--repo', 's3://packages/cli', '--s3-endpoint', s3.endpoint, '--deep'],
      S3_ENV,
    );
    expect(check.code, check.stderr).toBe(0);
    await storage.close();
  });
});
