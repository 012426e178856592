import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, test } from 'vitest';
import { IntegrityError, StorageError } from '../../src/errors.js';
import { snapshotDocumentKey } from '../../src/repo/layout.js';
import { loadSnapshotDocument } from '../../src/repo/snapshot-document.js';
import type { Storage } from '../../src/repo/storage.js';
import type { ServeEvent } from '../../src/serve/server.js';
import { SnapshotIndexes } from '../../src/serve/snapshot-indexes.js';
import { canMount, mountTmpfs, unmount } from '../helpers/tmpfs.js';
import { createHarness, type Harness } from './serve-harness.js';

let h: Harness | undefined;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A private parent for the servers' scratch directories, removed after the test. */
async function tempParent(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-serve-parent-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The real storage, with each read() of a snapshot document recorded. */
function recordingDocumentReads(storage: Storage, reads: string[]): Storage {
  return new Proxy(storage, {
    get(target, prop) {
      if (prop === 'read') {
        return (key: string, range?: Parameters<Storage['read']>[1]) => {
          if (key.startsWith('snapshots/')) reads.push(key);
          return target.read(key, range);
        };
      }
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

async function pypiDocument(harness: Harness, snapshot: string): Promise<string> {
  const published = JSON.parse((await harness.storage.readBuffer('published.json'))!.toString());
  return published.sources.pypi.snapshots[snapshot].document as string;
}

async function get(url: string) {
  const res = await request(url);
  return { status: res.statusCode, body: await res.body.text() };
}

/** Files this process holds open under `dir` (Linux: /proc/self/fd). */
async function openFilesUnder(dir: string): Promise<string[]> {
  const fds = await readdir('/proc/self/fd');
  const targets = await Promise.all(
    fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')),
  );
  return targets.filter((target) => target.startsWith(`${dir}/`));
}

describe('on-disk snapshot indexes', () => {
  test('concurrent first requests share one build of the index: the document is read once', async () => {
    h = await createHarness({ snapshots: ['2026-11-01'] });
    const reads: string[] = [];
    const server = await h.start({
      storage: recordingDocumentReads(h.storage, reads),
      tempDir: await tempParent(),
    });
    const base = `${server.url}/pypi/2026-11-01/simple`;
    const paths = ['/', '/alpha/', '/beta/', '/alpha/alpha-1.0-py3-none-any.whl', '/nope/'];
    const answers = await Promise.all(
      [...paths, ...paths, ...paths].map((path) => get(`${base}${path}`)),
    );
    expect(answers.map((a) => a.status)).toEqual(
      [...paths, ...paths, ...paths].map((p) => (p === '/nope/' ? 404 : 200)),
    );
    expect((await get(`${base}/beta/`)).status).toBe(200);

    const document = await pypiDocument(h, '2026-11-01');
    expect(reads).toEqual([snapshotDocumentKey(document)]);
    expect(await readdir(server.indexDir)).toEqual([`${document}.db`]);
  });

  test("a damaged document fails with the reader's own error and leaves no index behind", async () => {
    h = await createHarness({ snapshots: ['2026-11-01'] });
    const document = await pypiDocument(h, '2026-11-01');
    const file = join(h.dir, 'repo', snapshotDocumentKey(document));
    // Same length, still valid JSON: only the sha256, checked after the last entry, can tell.
    const bytes = await readFile(file, 'utf8');
    expect(bytes).toContain('"path":"beta/"');
    await writeFile(file, bytes.replace('"path":"beta/"', '"path":"betb/"'));
    const expected = await loadSnapshotDocument(h.storage, document).then(
      () => undefined,
      (err: unknown) => err as IntegrityError,
    );
    expect(expected).toBeInstanceOf(IntegrityError);

    const events: ServeEvent[] = [];
    const server = await h.start({ tempDir: await tempParent(), onEvent: (e) => events.push(e) });
    for (const path of ['/', '/alpha/']) {
      const answer = await get(`${server.url}/pypi/2026-11-01/simple${path}`);
      expect(answer).toEqual({
        status: 500,
        body: `internal error: ${expected!.message}\n${expected!.hint}\n`,
      });
      expect(await readdir(server.indexDir)).toEqual([]);
    }
    const failures = events.filter((e) => e.type === 'request-failed');
    expect(failures).toHaveLength(2);
    for (const failure of failures) {
      expect(failure.error).toBeInstanceOf(IntegrityError);
      expect(failure.error.message).toBe(expected!.message);
    }
  });

  test('close() removes the scratch directory, and a start removes those of dead servers only', async () => {
    h = await createHarness({ snapshots: ['2026-11-01'] });
    const parent = await tempParent();
    const exited = spawn(process.execPath, ['-e', '']);
    await once(exited, 'exit');
    const dead = join(parent, `airlock-serve-${exited.pid}-Ab12Cd`);
    const alive = join(parent, `airlock-serve-${process.pid}-Ef34Gh`);
    const unrelated = join(parent, 'airlock-serve-notapid');
    for (const dir of [dead, alive, unrelated]) {
      await mkdir(dir);
      await writeFile(join(dir, 'left.db'), 'x');
    }

    const server = await h.start({ tempDir: parent });
    expect(server.indexDir.startsWith(join(parent, `airlock-serve-${process.pid}-`))).toBe(true);
    const names = await readdir(parent);
    expect(names).not.toContain(`airlock-serve-${exited.pid}-Ab12Cd`);
    expect(names).toEqual(
      expect.arrayContaining([`airlock-serve-${process.pid}-Ef34Gh`, 'airlock-serve-notapid']),
    );

    expect((await get(`${server.url}/pypi/2026-11-01/simple/alpha/`)).status).toBe(200);
    expect(await readdir(server.indexDir)).toHaveLength(1);
    await server.close();
    expect((await readdir(parent)).sort()).toEqual(
      [`airlock-serve-${process.pid}-Ef34Gh`, 'airlock-serve-notapid'].sort(),
    );
  });

  test.runIf(process.platform === 'linux')(
    'an index pushed out of the open set has its handle closed, answers still, and is reopened without a rebuild',
    async () => {
      h = await createHarness();
      const reads: string[] = [];
      const indexes = await SnapshotIndexes.create(recordingDocumentReads(h.storage, reads), {
        tempDir: await tempParent(),
        maxOpen: 1,
      });
      cleanups.push(() => indexes.close());
      const [first, second] = [
        await pypiDocument(h, '2026-11-01'),
        await pypiDocument(h, '2026-11-15'),
      ];

      const a = await indexes.get(first);
      const page = a.find('alpha/', '');
      expect(page?.role).toBe('index');
      expect(await openFilesUnder(indexes.dir)).toEqual([join(indexes.dir, `${first}.db`)]);

      const b = await indexes.get(second);
      expect(b.has('alpha/')).toBe(true);
      expect(a.isOpen).toBe(false);
      expect(await openFilesUnder(indexes.dir)).toEqual([join(indexes.dir, `${second}.db`)]);
      // A request that still held the evicted index gets its answers from a short-lived handle.
      expect(a.find('beta/', '')?.role).toBe('index');
      expect(a.has('gamma/')).toBe(true);
      expect(a.projects()).toContain('alpha');
      expect(await openFilesUnder(indexes.dir)).toEqual([join(indexes.dir, `${second}.db`)]);

      const again = await indexes.get(first);
      expect(again.find('alpha/', '')).toEqual(page);
      expect(b.isOpen).toBe(false);
      expect(reads).toEqual([snapshotDocumentKey(first), snapshotDocumentKey(second)]);

      await indexes.close();
      expect(await openFilesUnder(indexes.dir)).toEqual([]);
    },
  );
});

describe('a scratch directory that cannot be written', () => {
  test.skipIf(!canMount)(
    'a read-only TMPDIR stops the start with a StorageError naming it, whose hint says to set TMPDIR',
    async () => {
      h = await createHarness({ snapshots: ['2026-11-01'] });
      const mountPoint = await tempParent();
      if (!mountTmpfs(mountPoint, 'ro,size=1m')) return;
      cleanups.push(() => unmount(mountPoint));
      const saved = process.env.TMPDIR;
      process.env.TMPDIR = mountPoint;
      cleanups.push(() => {
        if (saved === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = saved;
      });

      const failure = await h.start().then(
        () => undefined,
        (err: unknown) => err as StorageError,
      );
      expect(failure).toBeInstanceOf(StorageError);
      expect(failure!.exitCode).toBe(5);
      expect(failure!.message).toContain(mountPoint);
      expect(failure!.hint).toMatch(/set TMPDIR/);
    },
  );

  test.skipIf(!canMount)(
    'a full scratch disk fails the request with 503 naming the index, and leaves no partial index',
    async () => {
      h = await createHarness({ snapshots: ['2026-11-01'] });
      const mountPoint = await tempParent();
      if (!mountTmpfs(mountPoint, 'size=64k')) return;
      cleanups.push(() => unmount(mountPoint));
      const server = await h.start({ tempDir: mountPoint });
      // Fill what is left, so the first page SQLite writes finds no room.
      await writeFile(join(mountPoint, 'filler'), Buffer.alloc(64 * 1024)).catch(() => {});

      const answer = await get(`${server.url}/pypi/2026-11-01/simple/`);
      expect(answer.status).toBe(503);
      expect(answer.body).toContain(server.indexDir);
      expect(answer.body).toMatch(/set TMPDIR/);
      expect(await readdir(server.indexDir)).toEqual([]);
      await server.close();
      expect(await readdir(mountPoint)).toEqual(['filler']);
    },
  );
});
