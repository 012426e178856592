/**
 * A legacy sdist airlock cannot open (.zip, from before PEP 625) is carried, and named as a
 * problem whose dependencies are unknown, not passed as a package without dependencies.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/types.js';
import { createMetadataLoader } from '../../src/download/pypi-metadata.js';
import { createDispatcher } from '../../src/fetch/dispatcher.js';
import { parseCoreMetadata } from '../../src/upstream/core-metadata.js';
import { zip } from '../../src/fixture/zip-writer.js';
import { Workspace } from '../../src/workspace/workspace.js';
import { sha256, startFaultServer, type FaultServer } from '../fetch/fault-server.js';

let server: FaultServer;
const dir = mkdtempSync(join(tmpdir(), 'airlock-legacy-sdist-'));
beforeAll(async () => {
  server = await startFaultServer();
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('an sdist of a kind airlock does not read', () => {
  it('is reported as a file whose dependencies are unknown', async () => {
    const body = zip([
      {
        path: 'oldpkg-1.0/PKG-INFO',
        content: Buffer.from('Metadata-Version: 1.1\nName: oldpkg\n'),
      },
    ]);
    server.set('/oldpkg-1.0.zip', { body });
    const dispatcher = createDispatcher({ connections: 2 });
    const workspace = Workspace.open(join(dir, 'ws'), { create: true });
    const unknown: string[] = [];
    const unreadable: string[] = [];
    try {
      const load = createMetadataLoader(
        { config: { concurrency: 2 } as Config, dispatcher, workspace, now: new Date() },
        {
          onUnreadable: (f) => unreadable.push(f.filename),
          onFetched: () => undefined,
          onUnknownDependencies: (f, why) => unknown.push(`${f.filename}: ${why}`),
        },
      );
      const text = await load({
        filename: 'oldpkg-1.0.zip',
        url: server.url('/oldpkg-1.0.zip'),
        sha256: sha256(body),
        hashes: { sha256: sha256(body) },
        yanked: false,
        coreMetadata: false,
      });
      expect(parseCoreMetadata(text).requiresDist).toEqual([]);
      expect(unknown).toEqual(['oldpkg-1.0.zip: airlock reads only .tar.gz sdists and wheels']);
      expect(unreadable).toEqual([]);
    } finally {
      workspace.close();
      await dispatcher.close();
    }
  });
});
