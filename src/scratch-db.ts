/**
 * A private SQLite database for state that grows with the number of records in a bundle (the
 * index's blob list, the blobs an import needs). Held in JavaScript objects, that state cost
 * about 450 bytes of heap per blob: 200,000 blobs took an import past 350 MB. Here it costs a
 * page cache of fixed size, whatever the bundle holds.
 *
 * It is scratch: no journal and no fsync (a crash loses nothing a new run does not rebuild),
 * one connection, no mmap (mapped pages would count in the process's resident memory).
 */
import { tmpdir } from 'node:os';
import Database from 'better-sqlite3';
import type { StorageError } from './errors.js';
import { sqliteStorageError } from './sqlite-storage-error.js';

export type ScratchDb = Database.Database;

/**
 * Opens (creating) the database at `path`; without a path, an anonymous temporary database
 * that SQLite removes from disk as it creates it, so even a killed process leaves nothing.
 */
export function openScratchDb(path: string | undefined, cacheKiB: number): ScratchDb {
  try {
    const db = new Database(path ?? '');
    // better-sqlite3 runs SQLite in defensive mode, which silently keeps the rollback journal
    // on; it is lifted for this one pragma.
    db.unsafeMode(true);
    db.pragma('journal_mode = OFF');
    db.unsafeMode(false);
    db.pragma('synchronous = OFF');
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('mmap_size = 0');
    db.pragma(`cache_size = -${cacheKiB}`);
    return db;
  } catch (err) {
    throw scratchError(err, path);
  }
}

/** A failure of a scratch database (full disk, I/O error) as the StorageError it is. */
export function scratchError(err: unknown, path: string | undefined): StorageError | unknown {
  // An anonymous database's file is in SQLite's temp directory: $SQLITE_TMPDIR, else $TMPDIR.
  const where = path ?? `in ${process.env.SQLITE_TMPDIR ?? tmpdir()} (set TMPDIR to move it)`;
  return sqliteStorageError(err, 'write the scratch database', where);
}

/**
 * A scratch database with its schema and prepared statements, living in one transaction for
 * its whole life (nothing in it must be durable, and each statement outside a transaction
 * would write its pages out on its own). Every statement goes through run(), which turns a
 * SQLite failure into the StorageError it is.
 */
export class ScratchStore<S> {
  private readonly statements: S;
  private readonly db: ScratchDb;

  constructor(
    private readonly path: string | undefined,
    cacheKiB: number,
    schema: string,
    prepare: (db: ScratchDb) => S,
  ) {
    this.db = openScratchDb(path, cacheKiB);
    try {
      this.db.exec(schema);
      this.db.exec('BEGIN');
      this.statements = prepare(this.db);
    } catch (err) {
      this.db.close();
      throw scratchError(err, path);
    }
  }

  run<T>(statement: (statements: S) => T): T {
    try {
      return statement(this.statements);
    } catch (err) {
      throw scratchError(err, this.path);
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
