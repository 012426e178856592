/**
 * One airlock process per workspace at a time (overlapping cron jobs would otherwise race on
 * partial files). An O_EXCL lock file records who holds it; a lock whose process is gone (same
 * host, pid not alive) is stale after a crash or kill -9 and is taken over.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { StorageError, storageErrorFrom } from '../errors.js';

interface LockOwner {
  pid: number;
  host: string;
  startedAt: string;
  command: string;
}

export interface WorkspaceLock {
  release(): void;
}

export function acquireWorkspaceLock(path: string, command: string): WorkspaceLock {
  const me: LockOwner = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    command,
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
        throw storageErrorFrom(err, 'create the lock', path);
      const owner = readOwner(path);
      if (owner && isStale(owner)) {
        removeQuietly(path);
        continue;
      }
      const who = owner
        ? `${owner.command} (pid ${owner.pid} on ${owner.host}, started ${owner.startedAt})`
        : 'another airlock process';
      throw new StorageError(`the workspace is in use by ${who}: ${path}`, {
        code: 'ELOCKED',
        hint: `wait for it to finish; if that process is gone, delete ${path} and run again`,
      });
    }
    try {
      writeSync(fd, JSON.stringify(me) + '\n');
    } catch (err) {
      // A full disk takes the empty file but not its bytes: leave no lock nobody can read.
      closeSync(fd);
      removeQuietly(path);
      throw storageErrorFrom(err, 'write the lock', path);
    }
    closeSync(fd);
    let released = false;
    return {
      release() {
        if (released) return;
        released = true;
        const owner = readOwner(path);
        if (owner?.pid === me.pid && owner.host === me.host) removeQuietly(path);
      },
    };
  }
  throw new StorageError(`could not take the workspace lock ${path}`, {
    code: 'ELOCKED',
    hint: 'another process keeps recreating it; stop it and run again',
  });
}

function readOwner(path: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string')
      return parsed as LockOwner;
  } catch {
    // An empty or half-written lock file: the writer died between open and write.
    return { pid: -1, host: hostname(), startedAt: 'unknown', command: 'unknown' };
  }
  return undefined;
}

function isStale(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return false; // can't probe another host's pids: never steal
  if (owner.pid <= 0) return true;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
