/**
 * `--limit-rate`: one token bucket shared by every concurrent transfer, so the cap is on the
 * run's total bandwidth, not per file. Also the rate parser for the command line.
 */
import { UsageError } from '../errors.js';
import { parseSize } from '../size.js';

export interface RateLimiter {
  readonly bytesPerSecond: number;
  /** Takes `bytes` from the bucket; returns how many ms to wait before using them (0: now). */
  reserve(bytes: number): number;
}

/**
 * Tokens may go negative: a reservation larger than what is left is granted at once but
 * charged as debt, and the caller waits until the debt is paid. Every chunk is charged
 * exactly once, so the long-run total never exceeds the rate, whatever the chunk sizes.
 */
export function createRateLimiter(bytesPerSecond: number): RateLimiter {
  if (!(bytesPerSecond > 0)) throw new RangeError(`rate must be positive, got ${bytesPerSecond}`);
  // Enough burst to keep a socket busy for 100 ms, so pauses stay short and smooth, but never
  // more than one second's worth: at a low cap a 64 KiB burst would let small files through
  // unthrottled.
  const burst = Math.min(Math.max(64 * 1024, bytesPerSecond / 10), bytesPerSecond);
  let tokens = burst;
  let last = performance.now();

  const reserve = (bytes: number): number => {
    const now = performance.now();
    tokens = Math.min(burst, tokens + ((now - last) / 1000) * bytesPerSecond);
    last = now;
    tokens -= bytes;
    return tokens >= 0 ? 0 : (-tokens / bytesPerSecond) * 1000;
  };

  return {
    bytesPerSecond,
    reserve,
  };
}

/** A bandwidth in bytes per second (`20M`, `500K`, `20M/s`, `1048576`); 0 means no limit. */
export function parseRate(text: string, option = '--limit-rate'): number {
  const withoutPerSecond = String(text).replace(/\/s\s*$/i, '');
  if (/^\s*0+\s*$/.test(withoutPerSecond)) return 0;
  try {
    return parseSize(withoutPerSecond, option);
  } catch {
    throw new UsageError(`${option}: cannot read "${text}" as a rate`, {
      hint: 'write bytes per second, optionally with K, M or G (binary: 20M = 20 MiB/s); 0 for no limit',
    });
  }
}
