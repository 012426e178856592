import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createPool, runPool } from '../../src/fetch/pool.js';

describe('pool', () => {
  it('never runs more than `concurrency` tasks at once and keeps item order', async () => {
    let active = 0;
    let peak = 0;
    const outcomes = await runPool(
      [1, 2, 3, 4, 5, 6, 7],
      async (n) => {
        peak = Math.max(peak, ++active);
        await sleep(5);
        active--;
        if (n === 3) throw new Error('three');
        return n * 10;
      },
      { concurrency: 3 },
    );
    expect(peak).toBe(3);
    expect(outcomes[0]).toEqual({ status: 'done', value: 10 });
    expect(outcomes[2]).toMatchObject({ status: 'failed' });
    expect(outcomes[6]).toEqual({ status: 'done', value: 70 });
  });

  it('starts no new task after the signal aborts, and hands the signal to running ones', async () => {
    const controller = new AbortController();
    const pool = createPool({ concurrency: 2, signal: controller.signal });
    const seen: Array<AbortSignal | undefined> = [];
    const runs = [1, 2, 3, 4, 5].map((n) =>
      pool.run(async (signal) => {
        seen.push(signal);
        if (n === 2) controller.abort();
        await sleep(5);
        return n;
      }),
    );
    const outcomes = await Promise.all(runs);
    expect(outcomes.map((o) => o.status)).toEqual([
      'done',
      'done',
      'skipped',
      'skipped',
      'skipped',
    ]);
    expect(seen.every((s) => s === controller.signal)).toBe(true);
  });
});
