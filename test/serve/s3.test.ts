import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import type { Storage } from '../../src/repo/storage.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { startS3, type S3Fixture } from '../repo/s3rver-fixture.js';
import { importFixture, sha256 } from './fixture-repository.js';
import { createHarness, type Harness } from './serve-harness.js';

const run = promisify(execFile);
let s3: S3Fixture;
let h: Harness;
const storages: Storage[] = [];
const servers: RunningServer[] = [];

beforeAll(async () => {
  s3 = await startS3();
  h = await createHarness({ snapshots: [] });
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await Promise.all(storages.map((s) => s.close()));
  await s3.close();
  await h.cleanup();
});

async function open(): Promise<Storage> {
  const storage = await s3.open('mirror');
  storages.push(storage);
  return storage;
}

async function get(server: RunningServer, path: string, headers: Record<string, string> = {}) {
  const res = await request(`${server.url}${path}`, { headers });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body };
}

describe('serving from S3', () => {
  test('two servers on one bucket serve what a third process imports, including a snapshot published after they started', async () => {
    const importer = await open();
    await importFixture(importer, h.catalog, h.fixtureDir, ['2026-11-01']);
    for (let i = 0; i < 2; i++)
      servers.push(await startServer({ storage: await open(), port: 0, refreshMs: 50 }));

    const dest = join(h.dir, 'from-s3');
    await run(
      'python3',
      [
        '-m',
        'pip',
        'download',
        '--index-url',
        `${servers[0]!.url}/pypi/latest/simple`,
        '-d',
        dest,
        '--only-binary',
        ':all:',
        'alpha',
      ],
      {
        env: {
          ...process.env,
          PIP_NO_CACHE_DIR: '1',
          PIP_DISABLE_PIP_VERSION_CHECK: '1',
          PIP_CONFIG_FILE: '/dev/null',
        },
        timeout: 90_000,
      },
    );
    expect((await readdir(dest)).sort()).toEqual([
      'alpha-1.0-py3-none-any.whl',
      'beta-1.0-py3-none-any.whl',
      'gamma-1.0-py3-none-any.whl',
    ]);

    const path = '/cran/2026-11-01/src/contrib/airB_1.0.tar.gz';
    const whole = await get(servers[1]!, path);
    const part = await get(servers[1]!, path, { range: 'bytes=3-20' });
    expect(part.status).toBe(206);
    expect(part.body.equals(whole.body.subarray(3, 21))).toBe(true);

    await importFixture(importer, h.catalog, h.fixtureDir, ['2026-11-15']);
    const expected = h.catalog.sources.pypi.snapshots['2026-11-15']!.files.find(
      (f) => f.filename === 'zeta-1.0-py3-none-any.whl',
    )!;
    for (const server of servers) {
      await vi.waitFor(
        async () => expect((await get(server, '/pypi/latest/simple/zeta/')).status).toBe(200),
        { timeout: 5000 },
      );
      const zeta = await get(server, '/pypi/2026-11-15/simple/zeta/zeta-1.0-py3-none-any.whl');
      expect(sha256(zeta.body)).toBe(expected.sha256);
    }
  }, 120_000);
});
