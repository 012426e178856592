/**
 * SHA256SUMS, in the format `sha256sum -c` reads ("<hex>  <name>"). Bundles written to the
 * same directory share one file: lines of other files that still exist are kept, so
 * `sha256sum -c SHA256SUMS` checks every bundle on the medium.
 */
import { readFile, access } from 'node:fs/promises';
import { join } from 'node:path';
import { storageErrorFrom } from '../errors.js';
import { SUMS_FILE } from './bundle-names.js';
import { writeFileDurably } from './durable-file.js';

const SUM_LINE = /^([0-9a-f]{64}) [ *](.+)$/;

export interface SumLine {
  sha256: string;
  name: string;
}

export async function readSums(dir: string): Promise<SumLine[]> {
  return (await readSumsFile(dir)).lines;
}

/** The lines of SHA256SUMS, and the numbers (1-based) of the non-empty lines that are not sums. */
export async function readSumsFile(
  dir: string,
): Promise<{ lines: SumLine[]; malformed: number[] }> {
  let text: string;
  try {
    text = await readFile(join(dir, SUMS_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { lines: [], malformed: [] };
    throw storageErrorFrom(err, 'read', join(dir, SUMS_FILE));
  }
  const lines: SumLine[] = [];
  const malformed: number[] = [];
  text.split('\n').forEach((line, i) => {
    const match = SUM_LINE.exec(line);
    if (match) lines.push({ sha256: match[1]!, name: match[2]! });
    else if (line.trim() !== '') malformed.push(i + 1);
  });
  return { lines, malformed };
}

export async function mergeSums(dir: string, added: SumLine[]): Promise<void> {
  const addedNames = new Set(added.map((l) => l.name));
  const kept: SumLine[] = [];
  for (const line of await readSums(dir)) {
    if (addedNames.has(line.name) || line.name.includes('/')) continue;
    if (await exists(join(dir, line.name))) kept.push(line);
  }
  const text = [...kept, ...added].map((l) => `${l.sha256}  ${l.name}\n`).join('');
  await writeFileDurably(join(dir, SUMS_FILE), text);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
