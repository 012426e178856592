/**
 * The download pool: at most `concurrency` tasks at once, and once the signal
 * aborts (the CLI aborts it on SIGINT) no task that has not started yet will start; running
 * tasks get the signal too and stop themselves, leaving their partial files to resume.
 */
export interface PoolOptions {
  concurrency: number;
  signal?: AbortSignal;
}

/**
 * Runs `task` over every item, `concurrency` at a time, without a promise per item: a
 * 200,000-file run queued 200,000 closures and promises at once (100+ MB). Stops starting
 * items once the signal aborts. Resolves with the first task failure, if any (the other
 * items still run: one broken file must not stop the rest).
 */
export async function runEach<T>(
  items: Iterable<T>,
  task: (item: T, signal: AbortSignal | undefined) => Promise<void>,
  opts: PoolOptions,
): Promise<{ error: unknown } | undefined> {
  if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${opts.concurrency}`);
  }
  const { signal } = opts;
  // One iterator pulled by every worker: items may be read lazily (a plan on disk).
  const iterator = items[Symbol.iterator]();
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!signal?.aborted) {
      const next = iterator.next();
      if (next.done) return;
      const item = next.value;
      try {
        await task(item, signal);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  return failure;
}
