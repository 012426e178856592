import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { BlobChecker } from '../../src/bundle/blob-checker.js';
import { IntegrityError } from '../../src/errors.js';
import { randomFile } from '../helpers/memory-bundle-workspace.js';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function sharedSlot(size: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(size));
}

let checker: BlobChecker | undefined;
afterEach(() => checker?.close());

describe('the blob checker (a worker thread)', () => {
  it('accepts blobs that span slots, share a slot, or are empty, when each matches its sha256', async () => {
    checker = new BlobChecker();
    const a = randomFile(3000);
    const b = randomFile(500);
    const slot1 = sharedSlot(2048);
    const slot2 = sharedSlot(2048);
    // Slot 1: a header's worth of other bytes, then the first 1548 bytes of `a`, read twice.
    a.copy(slot1, 500, 0, 1000);
    checker.add(500, 1500);
    a.copy(slot1, 1500, 1000, 1548);
    checker.add(1500, 2048);
    const first = checker.check(slot1);
    // Slot 2: the rest of `a`, an empty blob, then `b` after 12 bytes of padding.
    a.copy(slot2, 0, 1548);
    checker.add(0, 1452);
    checker.endBlob(sha256(a), '/ws/a');
    checker.endBlob(sha256(Buffer.alloc(0)), '/ws/empty');
    b.copy(slot2, 1464);
    checker.add(1464, 1964);
    checker.endBlob(sha256(b), '/ws/b');
    await expect(Promise.all([first, checker.check(slot2)])).resolves.toBeDefined();
  });

  it('fails the check of the slot where a blob ends when its bytes differ, naming the file', async () => {
    checker = new BlobChecker();
    const good = randomFile(100);
    const rotted = randomFile(100);
    const slot = sharedSlot(1024);
    good.copy(slot, 0);
    checker.add(0, 100);
    checker.endBlob(sha256(good), '/ws/good');
    rotted.copy(slot, 100);
    checker.add(100, 200);
    checker.endBlob(sha256(randomFile(100)), '/ws/rotted');
    const failed = await checker.check(slot).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(IntegrityError);
    expect((failed as Error).message).toContain('/ws/rotted');
    expect((failed as Error).message).toContain(sha256(rotted));
  });
});
