/**
 * Builds a snapshot document's index file by streaming its entries (never all in memory)
 * into SQLite under a temporary name. The document's reader checks the sha256 and the counts
 * only at the end, so the file is renamed to its final name only after the last entry:
 * a damaged document fails with the reader's error and leaves no index behind.
 */
import Database from 'better-sqlite3';
import { rename, rm } from 'node:fs/promises';
import { openSnapshotDocument } from '../repo/snapshot-document.js';
import type { Storage } from '../repo/storage.js';
import { indexStorageError } from './index-dir.js';

// Rows per transaction: big enough that commits cost nothing, small enough that SQLite's
// dirty pages stay few.
const BATCH = 16_384;

const SCHEMA = `
  CREATE TABLE files (
    path TEXT NOT NULL, variant TEXT NOT NULL, role TEXT NOT NULL,
    sha256 TEXT NOT NULL, size INTEGER NOT NULL,
    PRIMARY KEY (path, variant)
  ) WITHOUT ROWID;
  CREATE TABLE projects (name TEXT NOT NULL);
`;

// A project page of PyPI's simple API is stored as '{project}/'.
const PROJECT_PAGE = /^[^/]+\/$/;

let buildNumber = 0;

/** Reads snapshots/<document>.ndjson from `storage` and writes its index to `file`. */
export async function buildSnapshotIndex(
  storage: Storage,
  document: string,
  file: string,
): Promise<void> {
  const temp = `${file}.${++buildNumber}.building`;
  const db = await createIndexDb(temp);
  try {
    const opened = await openSnapshotDocument(storage, document);
    const insertFile = db.prepare(
      // The first of two identical (path, variant) entries wins, as a linear search would.
      'INSERT OR IGNORE INTO files (path, variant, role, sha256, size) VALUES (?, ?, ?, ?, ?)',
    );
    const insertProject = db.prepare('INSERT INTO projects (name) VALUES (?)');
    let pending = 0;
    db.exec('BEGIN');
    for await (const entry of opened.entries) {
      insertFile.run(entry.path, entry.variant, entry.role, entry.sha256, entry.size);
      if (entry.role === 'index' && PROJECT_PAGE.test(entry.path))
        insertProject.run(entry.path.slice(0, -1));
      if (++pending === BATCH) {
        db.exec('COMMIT; BEGIN');
        pending = 0;
      }
    }
    db.exec('COMMIT');
    db.close();
    await rename(temp, file).catch((err: unknown) => {
      throw indexStorageError(err, 'move the finished snapshot index to', file);
    });
  } catch (err) {
    if (db.open) db.close();
    await rm(temp, { force: true });
    // The reader's errors (a damaged document, an unreadable repository) pass unchanged.
    throw err instanceof Database.SqliteError
      ? indexStorageError(err, 'write the snapshot index', temp)
      : err;
  }
}

async function createIndexDb(file: string): Promise<Database.Database> {
  let db: Database.Database | undefined;
  try {
    db = new Database(file);
    // Scratch that is rebuilt when lost: no journal, no fsync.
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.exec(SCHEMA);
    return db;
  } catch (err) {
    db?.close();
    await rm(file, { force: true });
    throw indexStorageError(err, 'create the snapshot index', file);
  }
}
