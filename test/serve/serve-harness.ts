/**
 * A fixture-backed repository in a temp dir and a server over it, torn down after each test.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FixtureCatalog } from '../../src/fixture/catalog.js';
import { generateFixture, type FixtureOptions } from '../../src/fixture/generate.js';
import { FsStorage } from '../../src/repo/fs-storage.js';
import type { Storage } from '../../src/repo/storage.js';
import type { AccessLogEntry } from '../../src/serve/access-log.js';
import { startServer, type RunningServer, type ServerOptions } from '../../src/serve/server.js';
import { importFixture } from './fixture-repository.js';

export interface Harness {
  dir: string;
  fixtureDir: string;
  catalog: FixtureCatalog;
  storage: Storage;
  servers: RunningServer[];
  log: AccessLogEntry[];
  start(options?: Partial<ServerOptions>): Promise<RunningServer>;
  cleanup(): Promise<void>;
}

/** `snapshots`: which fixture snapshots to import now (default all). */
export async function createHarness(
  options: { snapshots?: string[]; fixture?: FixtureOptions } = {},
): Promise<Harness> {
  const { snapshots } = options;
  const dir = await mkdtemp(join(tmpdir(), 'airlock-serve-'));
  const fixtureDir = join(dir, 'fixture');
  const catalog = await generateFixture(fixtureDir, options.fixture);
  const storage = new FsStorage(join(dir, 'repo'));
  await importFixture(storage, catalog, fixtureDir, snapshots ?? catalog.snapshots);
  const harness: Harness = {
    dir,
    fixtureDir,
    catalog,
    storage,
    servers: [],
    log: [],
    async start(options = {}) {
      const server = await startServer({
        storage,
        port: 0,
        onRequest: (e) => harness.log.push(e),
        ...options,
      });
      harness.servers.push(server);
      return server;
    },
    async cleanup() {
      await Promise.all(harness.servers.map((s) => s.close()));
      await storage.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return harness;
}
