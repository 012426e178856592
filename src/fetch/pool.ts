/**
 * The download pool: at most `concurrency` tasks at once (p-limit), and once the signal
 * aborts (the CLI aborts it on SIGINT) no task that has not started yet will start; running
 * tasks get the signal too and stop themselves, leaving their partial files to resume.
 */
import pLimit from 'p-limit';

export interface PoolOptions {
  concurrency: number;
  signal?: AbortSignal;
}

export type TaskOutcome<R> =
  | { status: 'done'; value: R }
  | { status: 'failed'; error: unknown }
  /** Never started: the signal aborted first. */
  | { status: 'skipped' };

export interface Pool {
  /** Queues a task; never rejects (the outcome says how it went). */
  run<R>(task: (signal: AbortSignal | undefined) => Promise<R>): Promise<TaskOutcome<R>>;
  readonly activeCount: number;
  readonly pendingCount: number;
}

export function createPool(opts: PoolOptions): Pool {
  if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${opts.concurrency}`);
  }
  const limit = pLimit(opts.concurrency);
  const { signal } = opts;
  return {
    run<R>(task: (signal: AbortSignal | undefined) => Promise<R>): Promise<TaskOutcome<R>> {
      return limit(async (): Promise<TaskOutcome<R>> => {
        if (signal?.aborted) return { status: 'skipped' };
        try {
          return { status: 'done', value: await task(signal) };
        } catch (error) {
          return { status: 'failed', error };
        }
      });
    },
    get activeCount() {
      return limit.activeCount;
    },
    get pendingCount() {
      return limit.pendingCount;
    },
  };
}

/** Runs `task` over every item through one pool; outcomes come back in item order. */
export function runPool<T, R>(
  items: Iterable<T>,
  task: (item: T, signal: AbortSignal | undefined) => Promise<R>,
  opts: PoolOptions,
): Promise<TaskOutcome<R>[]> {
  const pool = createPool(opts);
  return Promise.all(Array.from(items, (item) => pool.run((signal) => task(item, signal))));
}
