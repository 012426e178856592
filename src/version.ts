import { readFileSync } from 'node:fs';

/** airlock's own version, from the package.json beside dist/ (or src/ under vitest). */
export const AIRLOCK_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

export const USER_AGENT = `airlock/${AIRLOCK_VERSION} node/${process.versions.node}`;

/** What R itself sends for binaries (DESIGN.md): Package Manager picks the build by this. */
export function rUserAgent(minor: string): string {
  return `R (${minor}.0 x86_64-pc-linux-gnu x86_64 linux-gnu)`;
}
