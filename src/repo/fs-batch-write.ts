/**
 * Durable writes of many small files at once, for FsStorage.writeBatch. Written one by one
 * through the thread pool, each small blob of an import cost five round trips (open, write,
 * fsync, close, rename) and an fsync that waited alone: the importer's main thread sat idle
 * half the time. Done with direct calls on the main thread instead, the file creations stalled
 * it (on this VM an openat waits ~0.7 ms on the journal while other files' fsyncs commit), and
 * the main thread is the one hashing. So a batch goes to a writer thread in one message: it
 * creates and writes the temp files with direct calls, fsyncs them together (the file system
 * commits them in shared journal transactions), and only then renames each into place.
 *
 * Crash safety is that of a single write: nothing is renamed until every file of the batch is
 * durable, so a name in blobs/ never points at bytes a crash could lose; temp files left by a
 * kill are removed by abandonPartialWrites().
 */
import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { storageErrorFrom } from '../errors.js';

export interface BatchFile {
  temp: string;
  path: string;
  body: Buffer;
}

/**
 * Plain JavaScript evaluated in the worker: the tests run the TypeScript sources, where a
 * separate worker file would not exist untranspiled. `known` caches the directories that
 * exist, so a rename needs no mkdir first (one removed behind our back is made again).
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const { dirname } = require('node:path');
const known = new Set();
function moveIntoPlace(temp, path) {
  const dir = dirname(path);
  if (known.has(dir)) {
    try { fs.renameSync(temp, path); return; } catch (err) {
      if (err.code !== 'ENOENT') throw err;
      known.delete(dir);
    }
  }
  fs.mkdirSync(dir, { recursive: true });
  fs.renameSync(temp, path);
  known.add(dir);
}
function fsyncOne(fd, index) {
  return new Promise((resolve, reject) =>
    fs.fsync(fd, (err) => (err ? reject(Object.assign(err, { index })) : resolve())));
}
async function writeBatch(files) {
  const fds = [];
  let at = 0;
  let moving = false;
  try {
    for (; at < files.length; at++) {
      const { temp, body } = files[at];
      const fd = fs.openSync(temp, 'wx');
      fds.push(fd);
      for (let done = 0; done < body.length; ) done += fs.writeSync(fd, body, done, body.length - done);
    }
    // Settled, not raced: no descriptor may be closed while an fsync on it is still queued.
    const synced = await Promise.allSettled(fds.map(fsyncOne));
    const failed = synced.find((s) => s.status === 'rejected');
    if (failed) { at = failed.reason.index; throw failed.reason; }
    for (const fd of fds.splice(0)) fs.closeSync(fd);
    moving = true;
    for (at = 0; at < files.length; at++) moveIntoPlace(files[at].temp, files[at].path);
  } catch (err) {
    for (const fd of fds) { try { fs.closeSync(fd); } catch {} }
    // Files already renamed are durable and stay; every other temp file goes.
    for (const file of files.slice(moving ? at : 0)) fs.rmSync(file.temp, { force: true });
    return { message: err.message, code: err.code, at: Math.min(at, files.length - 1) };
  }
}
parentPort.on('message', async ({ id, files }) => {
  parentPort.postMessage({ id, error: await writeBatch(files) });
});
`;

interface Reply {
  id: number;
  error?: { message: string; code?: string; at: number };
}

interface Pending {
  files: readonly BatchFile[];
  resolve(): void;
  reject(err: Error): void;
}

/** One writer thread per FsStorage, started on the first batch. */
export class BatchWriter {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  /**
   * Writes each body to its temp file, fsyncs them all, then renames each to its path. A body
   * that owns its whole ArrayBuffer is handed over, not copied: the caller must not use it after.
   */
  write(files: readonly BatchFile[]): Promise<void> {
    if (files.length === 0) return Promise.resolve();
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { files, resolve, reject });
      // The writer thread keeps the process alive only while a batch is under way.
      if (this.pending.size === 1) worker.ref();
      // Bodies that own their whole memory move to the writer without a copy (detached here).
      const owned = files
        .map((f) => f.body.buffer)
        .filter((b, i): b is ArrayBuffer => b instanceof ArrayBuffer && ownsWhole(files[i]!.body));
      worker.postMessage({ id, files }, owned);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.on('message', (reply: Reply) => this.settle(reply));
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(new Error('the blob writer thread exited'));
    });
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private settle(reply: Reply): void {
    const p = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (!p) return;
    if (!reply.error) return p.resolve();
    const { message, code, at } = reply.error;
    const cause = Object.assign(new Error(message), code === undefined ? {} : { code });
    p.reject(storageErrorFrom(cause, 'write', p.files[at]?.path ?? ''));
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values())
      p.reject(storageErrorFrom(err, 'write', p.files[0]!.path));
    this.pending.clear();
  }
}

function ownsWhole(body: Buffer): boolean {
  return body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
}

/** Whether a regular file of exactly `size` bytes is at `path` (a direct call: no round trip). */
export function holdsFileOfSize(path: string, size: number): boolean {
  try {
    const info = statSync(path, { throwIfNoEntry: false });
    return info !== undefined && info.isFile() && info.size === size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') return false;
    throw storageErrorFrom(err, 'stat', path);
  }
}
