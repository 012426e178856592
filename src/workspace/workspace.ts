/**
 * The connected side's workspace: state.db plus the blob store, behind one object. Writes of
 * entries are batched into transactions so the database never paces a download.
 */
import Database from 'better-sqlite3';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { storageErrorFrom, UsageError } from '../errors.js';
import { makeDirectorySync } from '../make-directory.js';
import { sqliteStorageError } from '../sqlite-storage-error.js';
import { PUBLISHED_KEY, REPOSITORY_CONFIG_KEY } from '../repo/layout.js';
import type {
  SnapshotDescriptor,
  SnapshotEntry,
  SnapshotRef,
  Variant,
  EntryRole,
  HashAlgorithm,
} from '../model.js';
import type {
  BundleInfo,
  BundleWorkspace,
  WorkspaceSnapshotInfo,
} from '../bundle/workspace-view.js';
import { BlobStore } from './blob-store.js';
import { acquireWorkspaceLock, type WorkspaceLock } from './lock.js';
import { migrate } from './schema.js';

interface SnapshotRow {
  id: number;
  source: string;
  snapshot: string;
  type: SnapshotDescriptor['type'];
  requested: string;
  served_template: string;
  distribution: string | null;
  variants: string;
  complete: number;
  created_at: string;
  entries: number;
  bytes: number | null;
}

interface EntryRow {
  path: string;
  variant: string;
  role: string;
  sha256: string;
  size: number;
  package: string | null;
  version: string | null;
  url: string | null;
  upstream_algorithm: string | null;
  upstream_hash: string | null;
  fetched_at: string;
  generated: number;
}

interface BundleRow {
  id: string;
  parent: string | null;
  full: number;
  created_at: string;
  snapshots: string;
}

export interface OpenWorkspaceOptions {
  /** Take the workspace lock for this command; read-only users (status) pass undefined. */
  lockFor?: string;
  /**
   * Create the workspace when the directory holds none (only `download` does). Every other
   * command refuses a path that is not a workspace: a cron job with a mistyped path must fail,
   * not report "nothing new" forever from a workspace it just made.
   */
  create?: boolean;
}

export class Workspace implements BundleWorkspace {
  readonly dir: string;
  readonly blobs: BlobStore;
  private readonly db: Database.Database;
  private readonly lock: WorkspaceLock | undefined;

  private constructor(dir: string, db: Database.Database, lock: WorkspaceLock | undefined) {
    this.dir = dir;
    this.db = db;
    this.lock = lock;
    this.blobs = new BlobStore(dir);
  }

  static open(dir: string, opts: OpenWorkspaceOptions = {}): Workspace {
    const root = resolve(dir);
    const dbPath = join(root, 'state.db');
    if (opts.create) refuseRepository(root);
    else if (!existsSync(dbPath)) throw notAWorkspace(root);
    try {
      makeDirectorySync(join(root, 'blobs'));
      makeDirectorySync(join(root, 'tmp'));
    } catch (err) {
      throw storageErrorFrom(err, 'create the workspace', root);
    }
    const lock = opts.lockFor ? acquireWorkspaceLock(join(root, 'lock'), opts.lockFor) : undefined;
    try {
      let db: Database.Database | undefined;
      try {
        db = new Database(dbPath, { fileMustExist: !opts.create });
        migrate(db, dbPath);
      } catch (err) {
        db?.close();
        throw sqliteStorageError(err, 'open', dbPath);
      }
      return new Workspace(root, db, lock);
    } catch (err) {
      lock?.release();
      throw err;
    }
  }

  /** state.db, for the workspace's own modules (prune) that need more than these methods. */
  get database(): Database.Database {
    return this.db;
  }

  close(): void {
    this.db.close();
    this.lock?.release();
  }

  /**
   * Runs statements on state.db. A full disk, an I/O error or a read-only file system is the
   * storage's failure (exit 5 with what to fix), not a bug: SQLite's error says so here.
   */
  private sql<T>(statements: () => T): T {
    try {
      return statements();
    } catch (err) {
      throw sqliteStorageError(err, 'update', join(this.dir, 'state.db'));
    }
  }

  /** The rows of a statement's iterate(), each step guarded as sql() guards a statement. */
  private *rows<T>(start: () => IterableIterator<T>): Iterable<T> {
    const iterator = this.sql(start);
    for (;;) {
      const step = this.sql(() => iterator.next());
      if (step.done) return;
      yield step.value;
    }
  }

  /**
   * Removes what crashed runs left in tmp/: index files caught mid-write (never resumable) and
   * partial downloads untouched for `maxAgeDays` (their upstream files have likely changed, and
   * If-Range would discard them anyway). Only a run holding the lock may call this.
   */
  sweepTmp(maxAgeDays = 30, now = Date.now()): number {
    const dir = this.blobs.tmpDir;
    let removed = 0;
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      try {
        const age = now - statSync(path).mtimeMs;
        if (name.startsWith('index-') || age > maxAgeDays * 86_400_000) {
          rmSync(path, { force: true });
          removed++;
        }
      } catch {
        // vanished meanwhile
      }
    }
    return removed;
  }

  blobPath(sha256: string): string {
    return this.blobs.blobPath(sha256);
  }

  // ---- download side -------------------------------------------------------------------

  /** Starts (or restarts) recording a snapshot: its old entries go, it is incomplete until done. */
  beginSnapshot(d: SnapshotDescriptor, now = new Date()): number {
    return this.sql(() => this.beginSnapshotRow(d, now));
  }

  private beginSnapshotRow(d: SnapshotDescriptor, now: Date): number {
    const tx = this.db.transaction(() => {
      const row = this.db
        .prepare(
          `INSERT INTO snapshots (source, snapshot, type, requested, served_template, distribution, variants, complete, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)
           ON CONFLICT (source, snapshot) DO UPDATE SET type = excluded.type, requested = excluded.requested,
             served_template = excluded.served_template, distribution = excluded.distribution,
             variants = excluded.variants, complete = 0, completed_at = NULL
           RETURNING id`,
        )
        .get(
          d.source,
          d.snapshot,
          d.type,
          d.requested,
          d.servedTemplate,
          d.distribution ?? null,
          JSON.stringify(d.variants),
          now.toISOString(),
        ) as { id: number };
      this.db.prepare('DELETE FROM entries WHERE snapshot_id = ?').run(row.id);
      return row.id;
    });
    return tx();
  }

  /** Records verified files of a snapshot (and their blobs), in one transaction. */
  addEntries(snapshotId: number, entries: ReadonlyArray<SnapshotEntry & { md5?: string }>): void {
    if (entries.length === 0) return;
    this.sql(() => this.insertEntries(snapshotId, entries));
  }

  private insertEntries(
    snapshotId: number,
    entries: ReadonlyArray<SnapshotEntry & { md5?: string }>,
  ): void {
    const insertEntry = this.db.prepare(
      `INSERT OR REPLACE INTO entries (snapshot_id, path, variant, role, sha256, size, package, version, url,
         upstream_algorithm, upstream_hash, fetched_at, generated) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
    );
    const insertBlob = this.db.prepare(
      `INSERT INTO blobs (sha256, size, md5, stored_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (sha256) DO UPDATE SET md5 = coalesce(blobs.md5, excluded.md5)`,
    );
    const now = new Date().toISOString();
    this.db.transaction(() => {
      for (const e of entries) {
        insertBlob.run(e.sha256, e.size, e.md5 ?? null, now);
        const p = e.provenance;
        insertEntry.run(
          snapshotId,
          e.path,
          e.variant,
          e.role,
          e.sha256,
          e.size,
          e.package ?? null,
          e.version ?? null,
          p.url ?? null,
          p.upstreamHash?.algorithm ?? null,
          p.upstreamHash?.value ?? null,
          p.fetchedAt,
          p.generated ? 1 : 0,
        );
      }
    })();
  }

  completeSnapshot(snapshotId: number, now = new Date()): void {
    this.sql(() =>
      this.db
        .prepare('UPDATE snapshots SET complete = 1, completed_at = ? WHERE id = ?')
        .run(now.toISOString(), snapshotId),
    );
  }

  /** The sha256 of a stored blob with this MD5 (CRAN publishes only MD5), if its file is there. */
  blobByMd5(md5: string, size?: number): string | undefined {
    const rows = this.sql(
      () =>
        this.db.prepare('SELECT sha256, size FROM blobs WHERE md5 = ?').all(md5) as Array<{
          sha256: string;
          size: number;
        }>,
    );
    const hit = rows.find(
      (r) => (size === undefined || r.size === size) && this.blobs.hasSync(r.sha256),
    );
    return hit?.sha256;
  }

  /** True when the blob's file is present (the file is the truth; the row may lag a crash). */
  hasBlob(sha256: string): boolean {
    return this.blobs.hasSync(sha256);
  }

  startRun(command: string): number {
    const r = this.sql(() =>
      this.db
        .prepare(`INSERT INTO runs (command, started_at, status) VALUES (?, ?, 'running')`)
        .run(command, new Date().toISOString()),
    );
    return Number(r.lastInsertRowid);
  }

  finishRun(id: number, status: 'ok' | 'failed' | 'interrupted', summary: unknown): void {
    this.sql(() =>
      this.db
        .prepare('UPDATE runs SET finished_at = ?, status = ?, summary = ? WHERE id = ?')
        .run(new Date().toISOString(), status, JSON.stringify(summary), id),
    );
  }

  // ---- bundle side ---------------------------------------------------------------------

  listSnapshots(): WorkspaceSnapshotInfo[] {
    const rows = this.sql(
      () =>
        this.db
          .prepare(
            `SELECT s.*, count(e.path) AS entries, sum(e.size) AS bytes FROM snapshots s
         LEFT JOIN entries e ON e.snapshot_id = s.id GROUP BY s.id ORDER BY s.source, s.snapshot`,
          )
          .all() as SnapshotRow[],
    );
    return rows.map((r) => {
      const info: WorkspaceSnapshotInfo = {
        source: r.source,
        snapshot: r.snapshot,
        type: r.type,
        requested: r.requested,
        servedTemplate: r.served_template,
        variants: JSON.parse(r.variants) as Variant[],
        complete: r.complete === 1,
        entries: r.entries,
        bytes: r.bytes ?? 0,
        createdAt: r.created_at,
      };
      if (r.distribution !== null) info.distribution = r.distribution;
      return info;
    });
  }

  *entries(ref: SnapshotRef): Iterable<SnapshotEntry> {
    const rows = this.rows(
      () =>
        this.db
          .prepare(
            `SELECT e.* FROM entries e JOIN snapshots s ON s.id = e.snapshot_id
         WHERE s.source = ? AND s.snapshot = ? ORDER BY e.path, e.variant`,
          )
          .iterate(ref.source, ref.snapshot) as IterableIterator<EntryRow>,
    );
    for (const r of rows) yield entryFromRow(r);
  }

  lastBundle(): BundleInfo | undefined {
    const row = this.sql(
      () =>
        this.db
          .prepare('SELECT * FROM bundles ORDER BY created_at DESC, rowid DESC LIMIT 1')
          .get() as BundleRow | undefined,
    );
    return row && bundleFromRow(row);
  }

  getBundle(id: string): BundleInfo | undefined {
    const row = this.sql(
      () => this.db.prepare('SELECT * FROM bundles WHERE id = ?').get(id) as BundleRow | undefined,
    );
    return row && bundleFromRow(row);
  }

  listBundles(): BundleInfo[] {
    return this.sql(
      () =>
        this.db.prepare('SELECT * FROM bundles ORDER BY created_at, rowid').all() as BundleRow[],
    ).map(bundleFromRow);
  }

  *bundleBlobs(id: string): Iterable<string> {
    yield* this.rows(
      () =>
        this.db
          .prepare('SELECT sha256 FROM bundle_blobs WHERE bundle_id = ?')
          .pluck()
          .iterate(id) as IterableIterator<string>,
    );
  }

  recordBundle(info: BundleInfo, blobs: Iterable<string>): void {
    this.sql(() => this.insertBundle(info, blobs));
  }

  private insertBundle(info: BundleInfo, blobs: Iterable<string>): void {
    const insertBlob = this.db.prepare(
      'INSERT OR IGNORE INTO bundle_blobs (bundle_id, sha256) VALUES (?, ?)',
    );
    this.db.transaction(() => {
      this.db
        .prepare(
          'INSERT INTO bundles (id, parent, full, created_at, snapshots) VALUES (?, ?, ?, ?, ?)',
        )
        .run(
          info.id,
          info.parent,
          info.full ? 1 : 0,
          info.createdAt,
          JSON.stringify(info.snapshots),
        );
      for (const sha of blobs) insertBlob.run(info.id, sha);
    })();
  }
}

function notAWorkspace(root: string): UsageError {
  if (repositoryMarker(root) !== undefined) {
    return new UsageError(`${root} is an airlock repository, not a workspace`, {
      hint: 'give a repository with --repo (status, check, serve); a workspace is the connected side',
    });
  }
  const why = existsSync(root) ? 'it holds no state.db' : 'no such directory';
  return new UsageError(`${root} is not an airlock workspace (${why})`, {
    hint: `check the --workspace path; a workspace is created by \`airlock download --config FILE --workspace ${root}\``,
  });
}

// Both sides clean their tmp/ of what crashed runs left: sharing a directory, each would
// remove the other's files in flight.
function refuseRepository(root: string): void {
  const marker = repositoryMarker(root);
  if (marker === undefined) return;
  throw new UsageError(
    `${root} is an airlock repository (it holds ${marker}): a workspace cannot share its directory`,
    { hint: 'give --workspace a directory of its own (the repository stays where it is)' },
  );
}

/** The file that makes `root` a repository, if it is one. */
function repositoryMarker(root: string): string | undefined {
  return [REPOSITORY_CONFIG_KEY, PUBLISHED_KEY].find((key) => existsSync(join(root, key)));
}

function entryFromRow(r: EntryRow): SnapshotEntry {
  const e: SnapshotEntry = {
    path: r.path,
    variant: r.variant as Variant,
    role: r.role as EntryRole,
    sha256: r.sha256,
    size: r.size,
    provenance: { fetchedAt: r.fetched_at },
  };
  if (r.package !== null) e.package = r.package;
  if (r.version !== null) e.version = r.version;
  if (r.url !== null) e.provenance.url = r.url;
  if (r.upstream_algorithm !== null && r.upstream_hash !== null) {
    e.provenance.upstreamHash = {
      algorithm: r.upstream_algorithm as HashAlgorithm,
      value: r.upstream_hash,
    };
  }
  if (r.generated) e.provenance.generated = true;
  return e;
}

function bundleFromRow(r: BundleRow): BundleInfo {
  return {
    id: r.id,
    parent: r.parent,
    full: r.full === 1,
    createdAt: r.created_at,
    snapshots: JSON.parse(r.snapshots) as SnapshotRef[],
  };
}
