import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { PartHasher } from '../../src/bundle/part-hasher.js';
import { randomFile } from '../helpers/memory-bundle-workspace.js';

const sha256 = (...b: Buffer[]): string => {
  const h = createHash('sha256');
  for (const x of b) h.update(x);
  return h.digest('hex');
};

let hasher: PartHasher | undefined;
afterEach(() => hasher?.close());

describe('the part hasher (a worker thread)', () => {
  it('hashes shared and copied bytes, part after part, to the sha256 of each part', async () => {
    hasher = new PartHasher();
    const a = randomFile(5_000_000); // more than its 1 MiB copy slots
    const b = randomFile(1000);
    const shared = Buffer.from(new SharedArrayBuffer(3000));
    shared.set(randomFile(3000));
    await hasher.hashCopy(a);
    await hasher.hashShared(shared);
    const first = await hasher.digest();
    await hasher.hashCopy(b);
    const second = await hasher.digest();
    expect(first).toBe(sha256(a, Buffer.from(shared)));
    expect(second).toBe(sha256(b));
    expect(await hasher.digest()).toBe(sha256());
  });

  it('keeps copied bytes its own: the caller may overwrite its buffer at once', async () => {
    hasher = new PartHasher();
    const bytes = randomFile(100_000);
    const expected = sha256(bytes);
    await hasher.hashCopy(bytes);
    bytes.fill(0);
    expect(await hasher.digest()).toBe(expected);
  });

  it('fails every later call once closed', async () => {
    hasher = new PartHasher();
    await hasher.close();
    await expect(hasher.digest()).rejects.toThrow(/closed/);
  });
});
