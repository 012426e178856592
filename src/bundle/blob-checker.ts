/**
 * Re-checks the sha256 of every blob while the bundle is written, on a worker thread of its
 * own. The blob hash used to run on the main thread between reads: with the part hash on one
 * worker and the reads, this hash and the event loop on the main thread, the main thread was
 * the longest lane (1.3-1.7 CPU-s of 2.5 on the medium bench set). Here the main thread only
 * reads; the two hashes run side by side.
 *
 * The producer reads a blob into the sink's shared slots and records where its bytes landed
 * (`add`), then closes the blob with its expected sha256 (`endBlob`). When the sink hands a
 * slot over, `check` sends the slot and the ranges recorded in it in ONE message (one round
 * trip per 4 MiB slot, not per blob), and resolves once the worker has hashed them, that is,
 * once the slot may be reused. A blob whose bytes differ fails that promise with an
 * IntegrityError; the sink keeps the failure and the bundle fails before its manifest exists.
 */
import { Worker } from 'node:worker_threads';
import { IntegrityError } from '../errors.js';

/** Plain JavaScript, evaluated in the worker (see part-hasher.ts for why). */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
let hash = createHash('sha256');
parentPort.on('message', (m) => {
  const digests = [];
  for (let i = 0; i < m.cuts.length; i += 3) {
    const start = m.cuts[i], end = m.cuts[i + 1];
    if (end > start) hash.update(m.bytes.subarray(start, end));
    if (m.cuts[i + 2] === 1) {
      digests.push(hash.digest('hex'));
      hash = createHash('sha256');
    }
  }
  parentPort.postMessage({ id: m.id, digests });
});
`;

interface Expected {
  sha256: string;
  path: string;
}

interface Pending {
  expected: Expected[];
  resolve(): void;
  reject(err: Error): void;
}

export class BlobChecker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  /** Triples (start, end, 1 if the blob ends here) in the slot being filled. */
  private cuts: number[] = [];
  private expected: Expected[] = [];
  private failure: Error | undefined;

  constructor() {
    this.worker = new Worker(WORKER_SOURCE, { eval: true });
    this.worker.on('message', (m: { id: number; digests: string[] }) => this.settle(m));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', () => this.fail(new Error('the blob check worker exited')));
  }

  /** Bytes [start, end) of the slot being filled belong to the blob being read. */
  add(start: number, end: number): void {
    const last = this.cuts.length - 3;
    // Consecutive reads of one blob into one slot become one range.
    if (last >= 0 && this.cuts[last + 2] === 0 && this.cuts[last + 1] === start) {
      this.cuts[last + 1] = end;
    } else {
      this.cuts.push(start, end, 0);
    }
  }

  /** The blob being read is complete: its bytes must hash to `sha256`. */
  endBlob(sha256: string, path: string): void {
    this.cuts.push(0, 0, 1);
    this.expected.push({ sha256, path });
  }

  /** Sends the slot with the ranges recorded in it; resolves once the slot may be reused. */
  check(slot: Buffer): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.cuts.length === 0) return Promise.resolve();
    const id = this.nextId++;
    const cuts = this.cuts;
    const expected = this.expected;
    this.cuts = [];
    this.expected = [];
    return new Promise((resolve, reject) => {
      this.pending.set(id, { expected, resolve, reject });
      this.worker.postMessage({ id, bytes: slot, cuts });
    });
  }

  async close(): Promise<void> {
    this.failure ??= new Error('the blob checker is closed');
    await this.worker.terminate();
  }

  private settle(m: { id: number; digests: string[] }): void {
    const p = this.pending.get(m.id);
    this.pending.delete(m.id);
    if (!p) return;
    const bad = p.expected.findIndex((e, i) => m.digests[i] !== e.sha256);
    if (bad < 0) return p.resolve();
    const { path } = p.expected[bad]!;
    p.reject(
      new IntegrityError(`${path} does not match its sha256 (it holds ${m.digests[bad]})`, {
        hint: 'the workspace blob store is damaged: remove that file and run `airlock download` again',
      }),
    );
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }
}
