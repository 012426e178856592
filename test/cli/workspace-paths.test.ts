/**
 * Which command may create what (issue 19, bugs 1, 5 and 13): only `download` creates a
 * workspace and only `import` a repository; a mistyped path fails with exit 2 and creates
 * nothing; a workspace and a repository never share a directory; `bundle --since` works.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAirlock, type CliResult } from '../helpers/cli.js';
import { S3_CREDENTIALS, startS3 } from '../repo/s3rver-fixture.js';
import {
  fixtureConfig,
  withUpstream,
  writeConfig,
  type TestUpstream,
} from '../helpers/upstream.js';

let t: TestUpstream;
let root: string;
/** A workspace holding the cran source's 2026-11-01 snapshot, carried by bundle `first`. */
let ws: string;
let first: string;
/** A repository that imported `first`. */
let repo: string;

beforeAll(async () => {
  t = await withUpstream();
  root = t.tempDir('paths');
  ws = join(root, 'ws');
  repo = join(root, 'repo');
  await ok(['download', '--config', config('2026-11-01'), '--workspace', ws]);
  mkdirSync(join(root, 'usb0'));
  first = (
    JSON.parse(await ok(['bundle', '--workspace', ws, '--out', join(root, 'usb0'), '--json'])) as {
      id: string;
    }
  ).id;
  await ok(['import', manifestIn(join(root, 'usb0')), '--repo', repo]);
}, 120_000);
afterAll(async () => t?.close());

function config(snapshot: string): string {
  return writeConfig(
    root,
    fixtureConfig(t.upstream.url, snapshot, { sources: ['cran'] }),
    `${snapshot}.yaml`,
  );
}

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

function expectUsage(res: CliResult, ...parts: string[]): void {
  expect(res.code, res.stderr).toBe(2);
  expect(res.stderr).not.toContain('internal error');
  for (const part of parts) expect(res.stderr).toContain(part);
}

describe('bundle --since', () => {
  it('makes a delta against the named bundle, with or without --no-full, and refuses it with --full', async () => {
    const copy = join(root, 'ws-since');
    execFileSync('cp', ['-a', ws, copy]);
    await ok(['download', '--config', config('2026-11-15'), '--workspace', copy]);
    for (const extra of [[], ['--no-full']]) {
      const out = join(root, `since${extra.length}`);
      const made = JSON.parse(
        await ok([
          'bundle',
          '--workspace',
          copy,
          '--out',
          out,
          '--since',
          first,
          '--json',
          ...extra,
        ]),
      ) as { parent: string; full: boolean };
      expect(made).toMatchObject({ parent: first, full: false });
    }
    const both = await runAirlock([
      'bundle',
      '--workspace',
      copy,
      '--out',
      join(root, 'x'),
      '--full',
      '--since',
      first,
    ]);
    expectUsage(both, '--full', '--since');
    const unknown = await runAirlock([
      'bundle',
      '--workspace',
      copy,
      '--out',
      join(root, 'x'),
      '--since',
      'nope',
    ]);
    expectUsage(unknown, 'nope');
  });
});

describe('bundle --out', () => {
  it('creates a missing output directory', async () => {
    const copy = join(root, 'ws-out');
    execFileSync('cp', ['-a', ws, copy]);
    const out = join(root, 'new', 'usb');
    await ok(['bundle', '--workspace', copy, '--out', out, '--full']);
    expect(readdirSync(out).some((f) => f.endsWith('.manifest.json'))).toBe(true);
  });
});

describe('a path that is not a workspace or a repository', () => {
  const typo = () => join(root, 'typo', 'ws');

  it('status --workspace and bundle --workspace refuse it with exit 2 and create nothing', async () => {
    for (const args of [
      ['status', '--workspace', typo()],
      ['bundle', '--workspace', typo(), '--out', join(root, 'usb-typo')],
    ]) {
      expectUsage(await runAirlock(args), typo(), 'airlock download');
      expect(existsSync(join(root, 'typo'))).toBe(false);
    }
  });

  it('refuses an existing directory that holds no workspace, and leaves it empty', async () => {
    const empty = join(root, 'empty-dir');
    mkdirSync(empty);
    for (const args of [
      ['status', '--workspace', empty],
      ['bundle', '--workspace', empty, '--out', join(root, 'usb-empty')],
    ]) {
      expectUsage(await runAirlock(args), empty, 'not an airlock workspace');
      expect(readdirSync(empty)).toEqual([]);
    }
  });

  it('status, check and serve refuse a directory that is not a repository, and create nothing', async () => {
    const empty = join(root, 'empty-repo');
    mkdirSync(empty);
    for (const location of [join(root, 'no-repo'), empty]) {
      for (const args of [
        ['status', '--repo', location],
        ['check', '--repo', location],
        ['serve', '--repo', location, '--port', '0'],
      ]) {
        expectUsage(await runAirlock(args), location, 'airlock import');
      }
    }
    expect(existsSync(join(root, 'no-repo'))).toBe(false);
    expect(readdirSync(empty)).toEqual([]);
  });

  it('status, check and serve refuse an S3 prefix that holds no repository', async () => {
    const s3 = await startS3();
    try {
      const env = {
        AWS_ACCESS_KEY_ID: S3_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretAccessKey,
      };
      const location = 's3://packages/typo';
      for (const command of ['status', 'check', 'serve']) {
        const res = await runAirlock(
          [
            command,
            '--repo',
            location,
            '--s3-endpoint',
            s3.endpoint,
            ...(command === 'serve' ? ['--port', '0'] : []),
          ],
          env,
        );
        expectUsage(res, location, 'airlock import');
      }
    } finally {
      await s3.close();
    }
  });
});

describe('a workspace and a repository never share a directory', () => {
  it('import refuses a workspace directory as --repo', async () => {
    const res = await runAirlock(['import', manifestIn(join(root, 'usb0')), '--repo', ws]);
    expectUsage(res, ws, 'workspace');
    expect(existsSync(join(ws, 'airlock-repository.json'))).toBe(false);
  });

  it('download refuses a repository directory as --workspace', async () => {
    const res = await runAirlock([
      'download',
      '--config',
      config('2026-11-01'),
      '--workspace',
      repo,
    ]);
    expectUsage(res, repo, 'repository');
    expect(existsSync(join(repo, 'state.db'))).toBe(false);
  });
});

describe('a directory given where a manifest is expected', () => {
  it('verify and import answer exit 2 naming the manifests found there, and create no repository', async () => {
    const usb = join(root, 'usb0');
    const manifest = manifestIn(usb);
    for (const args of [
      ['verify', usb],
      ['import', usb, '--repo', join(root, 'repo-from-dir')],
    ]) {
      const res = await runAirlock(args);
      expectUsage(res, 'expected a manifest file, got a directory', `did you mean ${manifest}?`);
    }
    expect(existsSync(join(root, 'repo-from-dir'))).toBe(false);
    const empty = join(root, 'no-manifests');
    mkdirSync(empty);
    expectUsage(await runAirlock(['verify', empty]), empty, 'holds no *.manifest.json');
  });
});

describe('a workspace given as a repository, and the other way round', () => {
  it('says which one it is and which option to use', async () => {
    expectUsage(
      await runAirlock(['status', '--repo', ws]),
      ws,
      'is an airlock workspace',
      '--workspace',
    );
    expectUsage(
      await runAirlock(['status', '--workspace', repo]),
      repo,
      'is an airlock repository',
      '--repo',
    );
  });
});
