/**
 * The local scratch directory of one import (snapshot documents being built). Named with the
 * importer's pid so that the next import on this host can remove what a killed import (kill -9,
 * power loss) left in the system temp directory.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PREFIX = 'airlock-import-';

export async function makeImportTempDir(): Promise<string> {
  await removeStaleTempDirs();
  return mkdtemp(join(tmpdir(), `${PREFIX}${process.pid}-`));
}

async function removeStaleTempDirs(): Promise<void> {
  let names: string[];
  try {
    names = await readdir(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const match = new RegExp(`^${PREFIX}(\\d+)-`).exec(name);
    if (!match || processAlive(Number(match[1]))) continue;
    await rm(join(tmpdir(), name), { recursive: true, force: true });
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
