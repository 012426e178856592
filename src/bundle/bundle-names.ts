/**
 * How a bundle and its files are named. The id sorts by creation time (UTC) and carries
 * random bits so that two bundles made in the same second never share a name.
 */
import { randomBytes } from 'node:crypto';

export const BUNDLE_ID = /^\d{8}T\d{6}Z-[0-9a-f]{6}$/;

export function makeBundleId(now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

export function bundleName(id: string): string {
  return `airlock-${id}`;
}

export function manifestFileName(name: string): string {
  return `${name}.manifest.json`;
}

export function signatureFileName(manifestName: string): string {
  return `${manifestName}.sig`;
}

export function contentsFileName(name: string): string {
  return `${name}.contents.txt`;
}

export const SUMS_FILE = 'SHA256SUMS';

/** `NAME.tar` for a single part, else `NAME.part001`… with as many digits as the count needs. */
export function partFileNames(name: string, count: number): string[] {
  if (count === 1) return [`${name}.tar`];
  const digits = Math.max(3, String(count).length);
  return Array.from(
    { length: count },
    (_, i) => `${name}.part${String(i + 1).padStart(digits, '0')}`,
  );
}

/** The only part names a manifest may list: plain file names beside it, never a path. */
export function isPartFileName(name: string, bundle: string): boolean {
  return (
    name === `${bundle}.tar` || (name.startsWith(`${bundle}.part`) && /\.part\d{3,}$/.test(name))
  );
}
