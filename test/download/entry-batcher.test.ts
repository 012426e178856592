import { describe, expect, it } from 'vitest';
import { EntryBatcher } from '../../src/download/entry-batcher.js';
import type { SnapshotEntry } from '../../src/model.js';

function entry(i: number): SnapshotEntry {
  return {
    path: `p/${i}`,
    variant: '',
    role: 'package',
    sha256: i.toString(16).padStart(64, '0'),
    size: i,
    provenance: { url: `http://x/${i}`, fetchedAt: '2026-11-23T00:00:00Z' },
  };
}

describe('EntryBatcher', () => {
  it('writes full batches in order as they fill, and the rest on flush', async () => {
    const written: string[][] = [];
    const batcher = new EntryBatcher(
      async (entries) => {
        await new Promise((r) => setTimeout(r, 5));
        written.push(entries.map((e) => e.path));
      },
      2,
      60_000,
    );
    for (let i = 0; i < 5; i++) batcher.add(entry(i));
    await batcher.flush();
    expect(written).toEqual([['p/0', 'p/1'], ['p/2', 'p/3'], ['p/4']]);
  });

  it('keeps a failed write and rethrows it from the final flush', async () => {
    const batcher = new EntryBatcher(
      async () => {
        throw new Error('disk full');
      },
      1,
      60_000,
    );
    batcher.add(entry(1)); // fails in the background, without an unhandled rejection
    batcher.add(entry(2));
    await expect(batcher.flush()).rejects.toThrow('disk full');
  });
});
