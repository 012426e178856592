import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { runEach } from '../../src/fetch/pool.js';

describe('runEach', () => {
  it('never runs more than `concurrency` tasks at once, runs every item, and returns the first failure', async () => {
    let active = 0;
    let peak = 0;
    const done: number[] = [];
    const failure = await runEach(
      [1, 2, 3, 4, 5, 6, 7],
      async (n) => {
        peak = Math.max(peak, ++active);
        await sleep(5);
        active--;
        if (n === 3 || n === 5) throw new Error(`failed ${n}`);
        done.push(n);
      },
      { concurrency: 3 },
    );
    expect(peak).toBe(3);
    expect(done.sort()).toEqual([1, 2, 4, 6, 7]);
    expect((failure?.error as Error).message).toBe('failed 3');
  });

  it('starts no new item after the signal aborts, and hands the signal to running ones', async () => {
    const controller = new AbortController();
    const started: number[] = [];
    const seen: Array<AbortSignal | undefined> = [];
    const failure = await runEach(
      [1, 2, 3, 4, 5],
      async (n, signal) => {
        started.push(n);
        seen.push(signal);
        if (n === 2) controller.abort();
        await sleep(5);
      },
      { concurrency: 2, signal: controller.signal },
    );
    expect(failure).toBeUndefined();
    expect(started).toEqual([1, 2]);
    expect(seen.every((s) => s === controller.signal)).toBe(true);
  });

  it('refuses a concurrency that is not a positive integer', async () => {
    await expect(runEach([1], async () => undefined, { concurrency: 0 })).rejects.toThrow(
      RangeError,
    );
  });
});
