/**
 * `mkdir -p` that reports why it failed. Node's recursive mkdir answers ENOENT ("no such file
 * or directory") on a read-only file system, even for a single missing level, so an operator
 * was told to check the spelling of a path that was fine. Creating each missing level on its
 * own surfaces the real cause (EROFS, EACCES, ENOSPC, ENOTDIR).
 */
import { mkdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export function makeDirectorySync(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw realCauseSync(resolve(dir), err);
  }
}

export async function makeDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    // Synchronous on purpose: this runs once, on a failure, and walks a few levels.
    throw realCauseSync(resolve(dir), err);
  }
}

function realCauseSync(dir: string, err: unknown): unknown {
  if ((err as NodeJS.ErrnoException | undefined)?.code !== 'ENOENT') return err;
  const levels: string[] = [];
  for (let path = dir; dirname(path) !== path; path = dirname(path)) levels.unshift(path);
  for (const level of levels) {
    try {
      mkdirSync(level);
    } catch (levelErr) {
      if ((levelErr as NodeJS.ErrnoException).code !== 'EEXIST') return levelErr;
    }
  }
  return err;
}
