/**
 * Byte sizes as operators type them (`--max-part-size 4G`, `700M`, `4.7GB`, `--limit-rate 20M`)
 * and as airlock prints them. K/M/G/T and KiB/MiB/GiB/TiB are binary (1024); KB/MB/GB/TB are
 * decimal (1000), the way disk and DVD makers count; a plain number is bytes.
 */
import { UsageError } from './errors.js';

export const BINARY = 1024;
const UNITS: Record<string, number> = {
  '': 1,
  B: 1,
  K: BINARY,
  KIB: BINARY,
  M: BINARY ** 2,
  MIB: BINARY ** 2,
  G: BINARY ** 3,
  GIB: BINARY ** 3,
  T: BINARY ** 4,
  TIB: BINARY ** 4,
  KB: 1000,
  MB: 1000 ** 2,
  GB: 1000 ** 3,
  TB: 1000 ** 4,
};

export function parseSize(text: string, option = '--max-part-size'): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const factor = match ? UNITS[(match[2] ?? '').toUpperCase()] : undefined;
  if (!match || factor === undefined) {
    throw new UsageError(`${option} ${JSON.stringify(text)} is not a size`, {
      hint: 'give bytes (123), binary units (10K, 700M, 4G, 4GiB) or decimal units (4.7GB)',
    });
  }
  const bytes = Math.floor(Number(match[1]) * factor);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new UsageError(`${option} ${JSON.stringify(text)} is out of range`, {
      hint: 'give a positive size such as 700M or 4G',
    });
  }
  return bytes;
}

/** '1.5 GiB', '700 MiB', '12 KiB', '999 B': for messages and contents listings. */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= BINARY && unit < units.length - 1) {
    value /= BINARY;
    unit += 1;
  }
  const shown = unit === 0 || value >= 100 ? Math.round(value).toString() : value.toFixed(1);
  return `${shown} ${units[unit]}`;
}
