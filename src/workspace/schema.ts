/**
 * state.db: the connected side's record of what was fetched. The on-disk format version lives
 * here, in one place; open() refuses a newer one rather than guessing.
 */
import type Database from 'better-sqlite3';
import { StorageError } from '../errors.js';

export const WORKSPACE_FORMAT = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blobs (
  sha256 TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  md5 TEXT,
  stored_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blobs_by_md5 ON blobs (md5);
CREATE TABLE IF NOT EXISTS snapshots (
  id INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  snapshot TEXT NOT NULL,
  type TEXT NOT NULL,
  requested TEXT NOT NULL,
  served_template TEXT NOT NULL,
  distribution TEXT,
  variants TEXT NOT NULL,
  complete INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  completed_at TEXT,
  UNIQUE (source, snapshot)
);
-- One row per file of a snapshot, with the provenance that travels in bundles.
CREATE TABLE IF NOT EXISTS entries (
  snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  variant TEXT NOT NULL,
  role TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  package TEXT,
  version TEXT,
  url TEXT,
  upstream_algorithm TEXT,
  upstream_hash TEXT,
  fetched_at TEXT NOT NULL,
  generated INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (snapshot_id, path, variant)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entries_by_sha256 ON entries (sha256);
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY,
  command TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  status TEXT NOT NULL,
  summary TEXT
);
CREATE TABLE IF NOT EXISTS bundles (
  id TEXT PRIMARY KEY,
  parent TEXT,
  full INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  snapshots TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bundle_blobs (
  bundle_id TEXT NOT NULL REFERENCES bundles (id) ON DELETE CASCADE,
  sha256 TEXT NOT NULL,
  PRIMARY KEY (bundle_id, sha256)
) WITHOUT ROWID;
-- airlock prune: blobs whose rows are gone and whose files are removed next (a killed prune's
-- re-run finishes them), and the snapshots it removed (a re-run naming one knows it is done).
CREATE TABLE IF NOT EXISTS blob_deletions (sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pruned_snapshots (
  source TEXT NOT NULL,
  snapshot TEXT NOT NULL,
  pruned_at TEXT NOT NULL,
  PRIMARY KEY (source, snapshot)
) WITHOUT ROWID;
`;

export function migrate(db: Database.Database, path: string): void {
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode is durable against process crashes (kill -9); a power cut may lose the
  // last transactions, which only means a later run fetches or records them again.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  const row = db.prepare(`SELECT value FROM meta WHERE key = 'format'`).get() as
    { value: string } | undefined;
  if (!row) {
    db.prepare(`INSERT INTO meta (key, value) VALUES ('format', ?)`).run(String(WORKSPACE_FORMAT));
  } else if (Number(row.value) > WORKSPACE_FORMAT) {
    throw new StorageError(
      `${path} was written by a newer airlock (workspace format ${row.value})`,
      {
        hint: 'upgrade airlock on this host, or use a new workspace directory',
        code: 'EFORMAT',
      },
    );
  }
}
