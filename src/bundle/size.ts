/**
 * Byte sizes as operators type them (`--max-part-size 4G`, `700M`, `4.7GB`, `123`).
 * K/M/G/T and KiB/MiB/GiB/TiB are binary (1024); KB/MB/GB/TB are decimal (1000), the way
 * disk and DVD makers count; a plain number is bytes.
 */
import { UsageError } from '../errors.js';
import { BINARY } from '../size.js';

export { formatSize, parseSize } from '../size.js';

/** The smallest part we accept: below this the per-part overhead dominates. */
export const MIN_PART_SIZE = 10 * 1024;

/** FAT32 holds files up to 4 GiB − 1 byte, so "4G" would fail on exactly the disks it names. */
export const FAT32_MAX_FILE = 4 * BINARY ** 3 - 1;

/**
 * The part size actually used for a requested limit: validated, and exactly 4 GiB becomes
 * 4 GiB − 1 so that parts fit on FAT32.
 */
export function partLimit(requested: number, option = '--max-part-size'): number {
  if (!Number.isSafeInteger(requested) || requested < MIN_PART_SIZE) {
    throw new UsageError(`${option} ${requested} is below the minimum part size`, {
      hint: `give at least ${MIN_PART_SIZE} bytes (10K); real media want 700M, 4.7GB or 4G`,
    });
  }
  return requested === FAT32_MAX_FILE + 1 ? FAT32_MAX_FILE : requested;
}
