/**
 * The local scratch directory of one import (snapshot documents being built). Named with the
 * importer's pid so that the next import on this host can remove what a killed import (kill -9,
 * power loss) left in the system temp directory. Serve uses the same pattern for its indexes.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PREFIX = 'airlock-import-';

export async function makeImportTempDir(): Promise<string> {
  return makePidTempDir(PREFIX);
}

/**
 * A new directory `{parent}/{prefix}{pid}-XXXXXX`, after removing the directories with this
 * prefix whose process is gone. fs errors are the caller's to word.
 */
export async function makePidTempDir(prefix: string, parent = tmpdir()): Promise<string> {
  await removeDeadPidDirs(prefix, parent);
  return mkdtemp(join(parent, `${prefix}${process.pid}-`));
}

/** Removes `{parent}/{prefix}{pid}-*` of every pid that no longer runs on this host. */
export async function removeDeadPidDirs(prefix: string, parent = tmpdir()): Promise<void> {
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return;
  }
  for (const name of names) {
    const match = name.startsWith(prefix) ? /^(\d+)-/.exec(name.slice(prefix.length)) : null;
    if (!match || processAlive(Number(match[1]))) continue;
    await rm(join(parent, name), { recursive: true, force: true });
  }
}

/** Whether a process with this pid runs on this host (EPERM: it does, as another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
