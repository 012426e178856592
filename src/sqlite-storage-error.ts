/**
 * SQLite failures that are the disk's, not ours: a full disk, an I/O error, a read-only or
 * unopenable file, a damaged database. better-sqlite3 reports them as SqliteError with SQLite's
 * (extended) result code and no errno, so they reached the operator as "internal error".
 * Here they become the StorageError (exit 5) they are, with the hint for that fault. Anything
 * else (a constraint, bad SQL, misuse) is a bug and passes unchanged.
 */
import { StorageError, storageErrorFrom } from './errors.js';

interface Fault {
  /** The errno the operator knows this fault by; storageErrorFrom has hints for most. */
  errno: string;
  hint?: string;
}

// Keyed by the primary result code: extended codes (SQLITE_IOERR_WRITE, SQLITE_READONLY_DBMOVED,
// SQLITE_CANTOPEN_ISDIR, …) share their primary code's meaning.
const FAULTS: Record<string, Fault> = {
  SQLITE_FULL: { errno: 'ENOSPC' },
  SQLITE_IOERR: {
    errno: 'EIO',
    // A write into a full disk often surfaces as an I/O error of the journal or WAL file.
    hint: 'an I/O error: check that the disk has free space and reports no errors (dmesg), then run again',
  },
  SQLITE_READONLY: { errno: 'EROFS' },
  SQLITE_PERM: { errno: 'EPERM' },
  SQLITE_AUTH: { errno: 'EPERM' },
  SQLITE_CANTOPEN: {
    errno: 'ECANTOPEN',
    hint: 'the database file cannot be opened: check that its directory exists, is writable and has free space',
  },
  SQLITE_BUSY: {
    errno: 'EBUSY',
    hint: 'another process holds the database: wait for it to finish, then run again',
  },
  SQLITE_LOCKED: {
    errno: 'EBUSY',
    hint: 'another process holds the database: wait for it to finish, then run again',
  },
  SQLITE_CORRUPT: {
    errno: 'ECORRUPT',
    hint: 'the database file is damaged: restore it from a backup, or move it away and start again',
  },
  SQLITE_NOTADB: {
    errno: 'ECORRUPT',
    hint: 'the file is not an SQLite database: restore it from a backup, or move it away and start again',
  },
};

/** The SQLite result code of an error, when it has one. */
export function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/**
 * `err` as a StorageError naming `path` when it is a storage fault of SQLite; otherwise
 * `err` itself (already typed errors pass through too).
 */
export function sqliteStorageError(err: unknown, action: string, path: string): unknown {
  const code = sqliteCode(err);
  if (code === undefined) return err;
  const primary = /^SQLITE_[A-Z]+/.exec(code)![0];
  const fault = FAULTS[primary];
  if (!fault) return err;
  const cause = Object.assign(new Error(`${(err as Error).message} (${code})`, { cause: err }), {
    code: fault.errno,
  });
  const mapped = storageErrorFrom(cause, action, path);
  return fault.hint === undefined
    ? mapped
    : new StorageError(mapped.message, { hint: fault.hint, cause: err, code: fault.errno });
}
