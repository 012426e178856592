/**
 * The blob records of a bundle's index, as the reader checks the tar against them: in their
 * order (the tar must carry the blobs in that order) and each once (a blob listed twice is
 * refused). Kept in a scratch database, not in memory: 200,000 blobs are 200,000 records.
 */
import { join } from 'node:path';
import type { BlobRecord } from './index-records.js';
import { ScratchStore, type ScratchDb } from '../scratch-db.js';

/** Appends go to the end of one B-tree, lookups by sha256 to a second one: 4 MiB of cache. */
const CACHE_KIB = 4096;

const SCHEMA =
  'CREATE TABLE blob (seq INTEGER PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE, size INTEGER NOT NULL)';

function prepare(db: ScratchDb) {
  return {
    insert: db.prepare<[number, string, number]>(
      'INSERT OR IGNORE INTO blob (seq, sha256, size) VALUES (?, ?, ?)',
    ),
    bySeq: db.prepare<[number], { sha256: string; size: number }>(
      'SELECT sha256, size FROM blob WHERE seq = ?',
    ),
    bySha: db.prepare<[string], number>('SELECT 1 FROM blob WHERE sha256 = ?').pluck(),
  };
}

export class BlobList {
  private count = 0;

  private constructor(private readonly store: ScratchStore<ReturnType<typeof prepare>>) {}

  /** A list in `dir` (removed with it), or in an anonymous temporary database. */
  static create(dir?: string): BlobList {
    const path = dir === undefined ? undefined : join(dir, 'blob-list.db');
    return new BlobList(new ScratchStore(path, CACHE_KIB, SCHEMA, prepare));
  }

  get length(): number {
    return this.count;
  }

  /** Appends a blob; false (and nothing appended) when its sha256 is listed already. */
  add(sha256: string, size: number): boolean {
    const added = this.store.run((s) => s.insert.run(this.count, sha256, size).changes === 1);
    if (added) this.count += 1;
    return added;
  }

  /** The blob at position `i` (0-based), or undefined past the end. */
  at(i: number): BlobRecord | undefined {
    if (i >= this.count) return undefined;
    const row = this.store.run((s) => s.bySeq.get(i));
    return row && { type: 'blob', sha256: row.sha256, size: row.size };
  }

  has(sha256: string): boolean {
    return this.store.run((s) => s.bySha.get(sha256) !== undefined);
  }

  close(): void {
    this.store.close();
  }
}
