import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { FsStorage } from '../../src/repo/fs-storage.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { importFixture, sha256 } from './fixture-repository.js';
import { createHarness, type Harness } from './serve-harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

async function get(server: RunningServer, path: string) {
  const res = await request(`${server.url}${path}`);
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, body };
}

function packagesSha(harness: Harness, snapshot: string): string {
  return harness.catalog.sources.cran.snapshots[snapshot]!.files.find((f) =>
    f.urlPath.endsWith('/PACKAGES'),
  )!.sha256;
}

describe('snapshots published while serving', () => {
  test('a snapshot published after start appears on two running servers without a restart', async () => {
    h = await createHarness({ snapshots: ['2026-11-01'] });
    const servers = [await h.start({ refreshMs: 20 }), await h.start({ refreshMs: 20 })];
    for (const server of servers) {
      expect(sha256((await get(server, '/cran/latest/src/contrib/PACKAGES')).body)).toBe(
        packagesSha(h, '2026-11-01'),
      );
      expect((await get(server, '/cran/2026-11-15/src/contrib/PACKAGES')).status).toBe(404);
    }

    await importFixture(h.storage, h.catalog, h.fixtureDir, ['2026-11-15']);

    for (const server of servers) {
      await vi.waitFor(async () => {
        expect((await get(server, '/cran/2026-11-15/src/contrib/PACKAGES')).status).toBe(200);
      });
      expect(sha256((await get(server, '/cran/latest/src/contrib/PACKAGES')).body)).toBe(
        packagesSha(h, '2026-11-15'),
      );
      expect((await get(server, '/pypi/latest/simple/zeta/')).status).toBe(200);
      expect(sha256((await get(server, '/cran/2026-11-01/src/contrib/PACKAGES')).body)).toBe(
        packagesSha(h, '2026-11-01'),
      );
    }
  });

  test('under latest, a file the previous snapshot listed stays downloadable after a publish moved it', async () => {
    h = await createHarness({ snapshots: ['2026-11-01'] });
    const server = await h.start({ refreshMs: 20 });
    // A client read the old PACKAGES (airA 1.0 current) just before the publish...
    expect((await get(server, '/cran/latest/src/contrib/PACKAGES')).body.toString()).toContain(
      'Version: 1.0',
    );
    await importFixture(h.storage, h.catalog, h.fixtureDir, ['2026-11-15']);
    await vi.waitFor(async () =>
      expect((await get(server, '/cran/2026-11-15/src/contrib/PACKAGES')).status).toBe(200),
    );
    // ...and fetches airA_1.0.tar.gz from src/contrib/ after it moved to Archive/ in the new one.
    expect((await get(server, '/cran/2026-11-15/src/contrib/airA_1.0.tar.gz')).status).toBe(404);
    expect((await get(server, '/cran/latest/src/contrib/airA_1.0.tar.gz')).status).toBe(200);
  });

  test('/healthz is 503 until something is published, then 200 without a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'airlock-serve-empty-'));
    const storage = new FsStorage(dir);
    const server = await startServer({ storage, port: 0, refreshMs: 20 });
    try {
      const before = await get(server, '/healthz');
      expect(before.status).toBe(503);
      expect(JSON.parse(before.body.toString()).error).toContain('published.json');
      expect((await get(server, '/')).body.toString()).toContain('Nothing is published yet');
      h = await createHarness({ snapshots: ['2026-11-01'] });
      await importFixture(storage, h.catalog, h.fixtureDir, ['2026-11-01']);
      await vi.waitFor(async () => expect((await get(server, '/healthz')).status).toBe(200));
    } finally {
      await server.close();
      await storage.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('close() lets an in-flight download finish and then stops accepting connections', async () => {
    h = await createHarness({ snapshots: ['2026-11-01'] });
    const server = await h.start();
    const res = await request(`${server.url}/cran/2026-11-01/src/contrib/airA_1.0.tar.gz`);
    const closed = server.close();
    const body = Buffer.from(await res.body.arrayBuffer());
    await closed;
    expect(sha256(body)).toBe(
      h.catalog.sources.cran.snapshots['2026-11-01']!.files.find((f) =>
        f.urlPath.endsWith('/airA_1.0.tar.gz'),
      )!.sha256,
    );
    await expect(request(`${server.url}/healthz`)).rejects.toThrow();
  });
});
