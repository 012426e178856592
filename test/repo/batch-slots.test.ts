import { describe, expect, it } from 'vitest';
import { BatchSlots } from '../../src/repo/batch-slots.js';

describe('batch slots (fixed shared memory for the batches of small blobs)', () => {
  it('hands out at most `count` slots of shared memory and reuses a released one', async () => {
    const slots = new BatchSlots(2, 1024);
    const a = await slots.acquire();
    const b = await slots.acquire();
    expect(a.bytes.length).toBe(1024);
    expect(a.bytes.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(a.bytes.buffer).not.toBe(b.bytes.buffer);

    let third: Buffer | undefined;
    const waiting = slots.acquire().then((slot) => (third = slot.bytes));
    await new Promise((resolve) => setImmediate(resolve));
    expect(third).toBeUndefined();

    b.release();
    b.release(); // a second release must not free the slot twice
    await waiting;
    expect(third!.buffer).toBe(b.bytes.buffer);
    a.release();
    expect((await slots.acquire()).bytes.buffer).toBe(a.bytes.buffer);
  });
});
