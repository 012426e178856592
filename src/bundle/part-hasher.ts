/**
 * The sha256 of a part, computed on a worker thread. Writing and verifying a bundle hash every
 * byte twice (once for its part, once for its blob); on one thread that made sha256 the
 * limit, so the part hash runs beside the blob hash, on the other core.
 *
 * Bytes in shared memory (a SharedArrayBuffer) are hashed in place: `hashShared` resolves
 * once the worker has read them, and only then may the caller reuse that memory. Other bytes
 * are copied into the hasher's own shared slots by `hashCopy`, so the caller keeps its buffer
 * and waits only when every slot is still being hashed.
 */
import { Worker } from 'node:worker_threads';

const SLOT_SIZE = 1024 * 1024;
const SLOTS = 8;

/**
 * Plain JavaScript evaluated in the worker: the tests run the TypeScript sources, where a
 * separate worker file would not exist untranspiled.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
let hash = createHash('sha256');
parentPort.on('message', (m) => {
  if (m.bytes) {
    hash.update(m.bytes);
    parentPort.postMessage({ id: m.id });
  } else {
    parentPort.postMessage({ id: m.id, sha256: hash.digest('hex') });
    hash = createHash('sha256');
  }
});
`;

interface Pending {
  resolve(sha256: string | undefined): void;
  reject(err: Error): void;
}

export class PartHasher {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | undefined;
  /** Made on the first hashCopy: the bundle writer hands over shared bytes only. */
  private slots: Buffer[] | undefined;
  private readonly slotDone: Promise<unknown>[] = Array.from({ length: SLOTS }, () =>
    Promise.resolve(),
  );
  private slot = 0;

  constructor() {
    this.worker = new Worker(WORKER_SOURCE, { eval: true });
    this.worker.on('message', (m: { id: number; sha256?: string }) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      p?.resolve(m.sha256);
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', () => this.fail(new Error('the part hash worker exited')));
  }

  /** Hashes bytes that live in a SharedArrayBuffer; resolves once they may be overwritten. */
  async hashShared(bytes: Uint8Array): Promise<void> {
    if (!(bytes.buffer instanceof SharedArrayBuffer)) {
      throw new Error('hashShared needs bytes in a SharedArrayBuffer');
    }
    await this.send(bytes);
  }

  /** Hashes a copy of `bytes`; resolves once the copy is made (the caller may reuse them). */
  async hashCopy(bytes: Uint8Array): Promise<void> {
    for (let at = 0; at < bytes.length; at += SLOT_SIZE) {
      const piece = bytes.subarray(at, at + SLOT_SIZE);
      const i = this.slot;
      this.slot = (i + 1) % SLOTS;
      await this.slotDone[i];
      this.slots ??= Array.from({ length: SLOTS }, () =>
        Buffer.from(new SharedArrayBuffer(SLOT_SIZE)),
      );
      const slot = this.slots[i]!;
      slot.set(piece);
      const done = this.send(slot.subarray(0, piece.length));
      // Failures surface through the next call; here only the slot's reuse waits on it.
      this.slotDone[i] = done.catch(() => undefined);
    }
  }

  /** The sha256 of every byte hashed since the last digest; the next part starts empty. */
  async digest(): Promise<string> {
    return (await this.send(undefined))!;
  }

  async close(): Promise<void> {
    this.failure ??= new Error('the part hasher is closed');
    await this.worker.terminate();
  }

  private send(bytes: Uint8Array | undefined): Promise<string | undefined> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, bytes });
    });
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }
}
