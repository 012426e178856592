import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StorageError } from '../../src/errors.js';
import type { SnapshotDescriptor, SnapshotEntry } from '../../src/model.js';
import { Workspace } from '../../src/workspace/workspace.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempWorkspace(): string {
  const d = mkdtempSync(join(tmpdir(), 'airlock-ws-'));
  dirs.push(d);
  return d;
}

const descriptor: SnapshotDescriptor = {
  source: 'cran',
  snapshot: '2026-11-01',
  type: 'cran',
  requested: '2026-11-01',
  servedTemplate: 'cran/{snapshot}',
  variants: [''],
};

/** Stores bytes as a blob file the way the fetch pipeline does, and returns its entry. */
function blob(ws: Workspace, text: string, path: string): SnapshotEntry & { md5: string } {
  const bytes = Buffer.from(text);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const file = ws.blobPath(sha256);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, bytes);
  return {
    path,
    variant: '',
    role: 'package',
    sha256,
    size: bytes.length,
    md5: createHash('md5').update(bytes).digest('hex'),
    provenance: { url: `https://up.example/${path}`, fetchedAt: '2026-11-01T00:00:00Z' },
  };
}

describe('workspace', () => {
  it('keeps a second process out while the first holds the lock, naming it', () => {
    const dir = tempWorkspace();
    const first = Workspace.open(dir, { lockFor: 'airlock download', create: true });
    try {
      expect(() => Workspace.open(dir, { lockFor: 'airlock bundle' })).toThrowError(StorageError);
      try {
        Workspace.open(dir, { lockFor: 'airlock bundle' });
      } catch (err) {
        expect((err as StorageError).exitCode).toBe(5);
        expect((err as StorageError).message).toContain(
          `airlock download (pid ${process.pid} on ${hostname()}`,
        );
      }
    } finally {
      first.close();
    }
    expect(existsSync(join(dir, 'lock'))).toBe(false);
  });

  it('takes over a lock whose process is gone (kill -9 of an earlier run)', () => {
    const dir = tempWorkspace();
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'lock'),
      JSON.stringify({
        pid: 2 ** 22 + 12345,
        host: hostname(),
        startedAt: 'x',
        command: 'airlock download',
      }),
    );
    const ws = Workspace.open(dir, { lockFor: 'airlock download', create: true });
    ws.close();
  });

  it('restarts a snapshot from scratch and marks it complete only when told', () => {
    const ws = Workspace.open(tempWorkspace(), { lockFor: 'test', create: true });
    try {
      const id = ws.beginSnapshot(descriptor);
      ws.addEntries(id, [
        blob(ws, 'a', 'src/contrib/a_1.0.tar.gz'),
        blob(ws, 'b', 'src/contrib/b_1.0.tar.gz'),
      ]);
      expect(ws.listSnapshots()[0]).toMatchObject({ complete: false, entries: 2, bytes: 2 });
      ws.completeSnapshot(id);
      expect(ws.listSnapshots()[0]!.complete).toBe(true);
      // A new run of the same snapshot (a changed config) starts over: old entries go.
      const again = ws.beginSnapshot(descriptor);
      expect(again).toBe(id);
      ws.addEntries(again, [blob(ws, 'c', 'src/contrib/c_1.0.tar.gz')]);
      expect(ws.listSnapshots()[0]).toMatchObject({ complete: false, entries: 1 });
      expect([...ws.entries(descriptor)].map((e) => e.path)).toEqual(['src/contrib/c_1.0.tar.gz']);
      expect([...ws.entries(descriptor)][0]!.provenance.url).toBe(
        'https://up.example/src/contrib/c_1.0.tar.gz',
      );
    } finally {
      ws.close();
    }
  });

  it('maps a CRAN MD5 to the stored sha256 only while the blob file exists', () => {
    const ws = Workspace.open(tempWorkspace(), { lockFor: 'test', create: true });
    try {
      const e = blob(ws, 'package bytes', 'src/contrib/x_1.0.tar.gz');
      ws.addEntries(ws.beginSnapshot(descriptor), [e]);
      expect(ws.blobByMd5(e.md5)).toBe(e.sha256);
      expect(ws.blobByMd5(e.md5, e.size + 1)).toBeUndefined();
      rmSync(ws.blobPath(e.sha256));
      expect(ws.blobByMd5(e.md5)).toBeUndefined();
    } finally {
      ws.close();
    }
  });

  it('sweeps crash leftovers and stale partials from tmp/, keeping recent partials', () => {
    const ws = Workspace.open(tempWorkspace(), { lockFor: 'test', create: true });
    try {
      const tmp = ws.blobs.tmpDir;
      writeFileSync(join(tmp, 'index-0123.tmp'), 'half an index');
      writeFileSync(join(tmp, 'recent.part'), 'resume me');
      writeFileSync(join(tmp, 'old.part'), 'too old');
      const old = new Date(Date.now() - 40 * 86_400_000);
      utimesSync(join(tmp, 'old.part'), old, old);
      expect(ws.sweepTmp()).toBe(2);
      expect(existsSync(join(tmp, 'recent.part'))).toBe(true);
    } finally {
      ws.close();
    }
  });
});
