/**
 * Numeric options, checked against the text the operator typed. yargs' `type: 'number'` turns
 * `--port abc` into NaN and the message into "--port NaN"; these options are declared as
 * strings and read here, so a refusal quotes the value as it was written.
 */
import { UsageError } from '../errors.js';

export interface WholeNumberRange {
  min: number;
  max?: number;
  /** What a valid value looks like, for the hint (e.g. "1-65535, or 0 for any free port"). */
  expected: string;
}

export function wholeNumberOption(
  value: string | number,
  flag: string,
  range: WholeNumberRange,
): number {
  const text = String(value).trim();
  const parsed = /^\d+$/.test(text) ? Number(text) : NaN;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isSafeInteger(parsed) || parsed < range.min || parsed > max) {
    throw new UsageError(`${flag} ${String(value)}: expected ${range.expected}`, {
      hint: `give ${flag} ${range.expected}`,
    });
  }
  return parsed;
}

/** A TCP port: 0 asks the system for any free one. */
export function portOption(value: string | number, flag = '--port'): number {
  return wholeNumberOption(value, flag, {
    min: 0,
    max: 65535,
    expected: 'a port number from 1 to 65535, or 0 for any free port',
  });
}
