/**
 * Durations as operators type them (`--grace 24h`, `7d`, `90m`, `0`): a number with one unit
 * of s, m, h, d or w; a plain 0 means none.
 */
import { UsageError } from '../errors.js';

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

export function parseDuration(text: string, option: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$/i.exec(text);
  const value = match ? Number(match[1]) : NaN;
  const unit = (match?.[2] ?? '').toLowerCase();
  if (!match || (unit === '' && value !== 0)) {
    throw new UsageError(`${option} ${JSON.stringify(text)} is not a duration`, {
      hint: 'give a number with a unit: 30m, 24h, 7d, 2w (or 0 for none)',
    });
  }
  return Math.round(value * (UNIT_MS[unit] ?? 0));
}
