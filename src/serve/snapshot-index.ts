/**
 * A snapshot document's index for serving: an SQLite file in the server's scratch directory
 * (built by index-build.ts), read through prepared statements. Nothing per entry lives in the
 * JavaScript heap, so a 200,000-entry snapshot costs the same memory as a 20-entry one: the
 * handle and SQLite's small page cache.
 */
import Database from 'better-sqlite3';
import type { EntryRole, Variant } from '../model.js';
import { indexStorageError } from './index-dir.js';
import { LruCache } from '../lru-cache.js';
import { summarizeCarried, type CarriedSummary } from './carried-summary.js';
import { sqliteCode } from '../sqlite-storage-error.js';

export interface ServedFile {
  variant: Variant;
  role: EntryRole;
  sha256: string;
  size: number;
}

// 2 MiB per open index: lookups touch a few B-tree pages each, and the OS caches the file.
const CACHE_KIB = 2048;
// A query costs ~5 µs, about 1 % of sending a 1 MiB file but 10 % of a small wheel: the files
// a burst of clients asks for again and again are answered from memory (~200 KB at most).
const RECENT_LOOKUPS = 1024;

interface Statements {
  db: Database.Database;
  has: Database.Statement<[string], number>;
  find: Database.Statement<[string, string], { role: EntryRole; sha256: string; size: number }>;
  projects: Database.Statement<[], string>;
  variants: Database.Statement<[], Variant>;
  packages: Database.Statement<[], string>;
}

export class SnapshotIndex {
  private statements: Statements | undefined;
  private readonly recent = new LruCache<string, ServedFile | null>(RECENT_LOOKUPS);
  private carriedSummary: CarriedSummary | undefined;

  private constructor(
    /** The document's sha256 (its name): the cache key, immutable. */
    readonly document: string,
    private readonly file: string,
  ) {
    this.statements = prepare(file);
  }

  /** Opens an index file that index-build.ts finished (it exists only once verified). */
  static open(document: string, file: string): SnapshotIndex {
    return new SnapshotIndex(document, file);
  }

  /** Whether any variant is stored at `path`. */
  has(path: string): boolean {
    return this.query((s) => s.has.get(path) !== undefined);
  }

  /** The file stored at `path` for `variant`, if any. */
  find(path: string, variant: Variant): ServedFile | undefined {
    const key = `${variant}\n${path}`;
    const known = this.recent.get(key);
    if (known !== undefined) return known ?? undefined;
    const row = this.query((s) => s.find.get(path, variant));
    const file = row ? { variant, role: row.role, sha256: row.sha256, size: row.size } : null;
    this.recent.set(key, file);
    return file ?? undefined;
  }

  /**
   * PyPI: normalized project names that have a project page ('{project}/'), sorted as
   * JavaScript sorts strings. Read per call: the rendered list is what gets cached.
   */
  projects(): string[] {
    return this.query((s) => s.projects.all()).sort();
  }

  /** The R minors and wheel tags this snapshot carries (one pass over its files, then kept). */
  carried(): CarriedSummary {
    this.carriedSummary ??= this.query((s) =>
      summarizeCarried(s.variants.iterate(), s.packages.iterate()),
    );
    return this.carriedSummary;
  }

  get isOpen(): boolean {
    return this.statements !== undefined;
  }

  /** Closes the handle; a request still holding the index then reads through a short-lived one. */
  close(): void {
    this.statements?.db.close();
    this.statements = undefined;
  }

  private query<T>(run: (s: Statements) => T): T {
    try {
      return this.queryOnce(run);
    } catch (err) {
      // A read of the local index file that fails (an I/O error) is the disk's fault, not ours.
      throw sqliteCode(err) ? indexStorageError(err, 'read the snapshot index', this.file) : err;
    }
  }

  private queryOnce<T>(run: (s: Statements) => T): T {
    if (this.statements) return run(this.statements);
    // Evicted while a slow request (reading a blob) still held it: the file is still there.
    const once = prepare(this.file);
    try {
      return run(once);
    } finally {
      once.db.close();
    }
  }
}

function prepare(file: string): Statements {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma(`cache_size = -${CACHE_KIB}`);
    return {
      db,
      has: db.prepare<[string], number>('SELECT 1 FROM files WHERE path = ? LIMIT 1').pluck(),
      find: db.prepare('SELECT role, sha256, size FROM files WHERE path = ? AND variant = ?'),
      projects: db.prepare<[], string>('SELECT name FROM projects').pluck(),
      variants: db.prepare<[], Variant>('SELECT DISTINCT variant FROM files').pluck(),
      packages: db.prepare<[], string>("SELECT path FROM files WHERE role = 'package'").pluck(),
    };
  } catch (err) {
    db?.close();
    throw indexStorageError(err, 'open the snapshot index', file);
  }
}
