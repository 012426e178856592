/**
 * The closure's METADATA loader against the fixture upstream: a `.metadata` file stored by an
 * earlier fetch is read back from the workspace (the closure's cache is bounded, so it asks
 * again), a rotted one is fetched again, and a stop request is honoured even when nothing
 * would touch the network.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/types.js';
import { createMetadataLoader } from '../../src/download/pypi-metadata.js';
import { createDispatcher } from '../../src/fetch/dispatcher.js';
import type { FixtureFile } from '../../src/fixture/catalog.js';
import type { PypiFile } from '../../src/upstream/pypi-file.js';
import { Workspace } from '../../src/workspace/workspace.js';
import { withUpstream, type TestUpstream } from '../helpers/upstream.js';

let t: TestUpstream;
let dispatcher: Dispatcher;
let wheel: FixtureFile;
beforeAll(async () => {
  t = await withUpstream({ scale: { smallFiles: 5, smallMin: 100, smallMax: 200 } });
  dispatcher = createDispatcher({ connections: 2 });
  const files = Object.values(t.catalog.sources.pypi!.snapshots).flatMap((s) => s.files);
  wheel = files.find((f) => f.kind === 'wheel' && f.coreMetadataSha256 !== undefined)!;
}, 120_000);
afterAll(async () => {
  await dispatcher.close();
  await t.close();
});

function pypiFileOf(f: FixtureFile): PypiFile {
  return {
    filename: f.filename!,
    url: `${t.upstream.url}/${f.urlPath}`,
    sha256: f.sha256,
    hashes: { sha256: f.sha256 },
    yanked: false,
    coreMetadata: { sha256: f.coreMetadataSha256! },
  };
}

function loaderFor(workspace: Workspace, signal?: AbortSignal) {
  const unreadable: string[] = [];
  const load = createMetadataLoader(
    {
      config: { concurrency: 2 } as Config,
      dispatcher,
      workspace,
      now: new Date(),
      ...(signal ? { signal } : {}),
    },
    {
      onUnreadable: (file) => unreadable.push(file.filename),
      onFetched: () => {},
      onUnknownDependencies: (file) => unreadable.push(file.filename),
    },
  );
  return { load, unreadable };
}

const metadataRequests = () =>
  t.upstream.requests.filter((r) => r.path === `/${wheel.urlPath}.metadata`).length;

describe('the METADATA loader', () => {
  it('reads a .metadata file an earlier fetch stored, not the network', async () => {
    const ws = Workspace.open(t.tempDir('ws'), { create: true });
    try {
      const { load } = loaderFor(ws);
      const before = metadataRequests();
      const first = await load(pypiFileOf(wheel));
      expect(first).toMatch(/^Metadata-Version: /);
      expect(metadataRequests()).toBe(before + 1);
      expect(ws.hasBlob(wheel.coreMetadataSha256!)).toBe(true);

      expect(await load(pypiFileOf(wheel))).toBe(first);
      expect(metadataRequests()).toBe(before + 1);
    } finally {
      ws.close();
    }
  });

  it('fetches a rotted stored .metadata again and stores the good bytes', async () => {
    const ws = Workspace.open(t.tempDir('ws'), { create: true });
    try {
      const { load } = loaderFor(ws);
      const good = await load(pypiFileOf(wheel));
      const blob = ws.blobPath(wheel.coreMetadataSha256!);
      writeFileSync(blob, 'Metadata-Version: 2.1\nName: rotted\nVersion: 0\n');
      const before = metadataRequests();

      expect(await load(pypiFileOf(wheel))).toBe(good);
      expect(metadataRequests()).toBe(before + 1);
      expect(readFileSync(blob, 'utf8')).toBe(good);
    } finally {
      ws.close();
    }
  });

  it('stops at once when the run is stopped, even with everything in the workspace', async () => {
    const ws = Workspace.open(t.tempDir('ws'), { create: true });
    try {
      await loaderFor(ws).load(pypiFileOf(wheel));
      const controller = new AbortController();
      controller.abort(new Error('stopped by SIGTERM'));
      const before = t.upstream.requests.length;

      await expect(loaderFor(ws, controller.signal).load(pypiFileOf(wheel))).rejects.toThrow(
        'stopped by SIGTERM',
      );
      expect(t.upstream.requests.length).toBe(before);
    } finally {
      ws.close();
    }
  });
});
