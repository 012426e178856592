/**
 * The blobs a bundle's index references and carries, kept in a scratch database (in the
 * reader's scratch dir, or anonymous) rather than in memory (a Map entry per blob cost an import of 200,000 blobs about 90 MB):
 * for each sha256, the first index entry that references it (its size and path) and the size
 * the bundle's blob record gives when the bundle carries it.
 */
import { join } from 'node:path';
import { ScratchStore, type ScratchDb } from '../scratch-db.js';

/** The first entry that references a blob: what later references must agree with. */
export interface Need {
  size: number;
  path: string;
}

export interface NeededBlob extends Need {
  sha256: string;
}

/** Random lookups by sha256 over ~150 bytes per blob: 8 MiB keeps the inner pages cached. */
const CACHE_KIB = 8192;

const SCHEMA = `
CREATE TABLE blob (
  sha256 TEXT PRIMARY KEY,
  seq INTEGER,          -- order of the first reference (NULL: no entry references it)
  size INTEGER,         -- the size that reference gives
  path TEXT,            -- its path
  carried INTEGER,      -- the size of the bundle's blob record (NULL: not carried)
  stored INTEGER NOT NULL DEFAULT 0  -- seen in a listing of the repository's blobs
) WITHOUT ROWID;`;
const UNCARRIED = 'path IS NOT NULL AND carried IS NULL';

export class BlobNeeds {
  private seq = 0;
  private readonly store: ScratchStore<ReturnType<typeof prepare>>;

  /** A scratch database in `dir` (removed with it), or an anonymous temporary one. */
  constructor(dir?: string) {
    const path = dir === undefined ? undefined : join(dir, 'blob-needs.db');
    this.store = new ScratchStore(path, CACHE_KIB, SCHEMA, prepare);
  }

  /** Records a reference; returns the first reference when an earlier entry made it. */
  need(sha256: string, size: number, path: string): Need | undefined {
    const seq = this.seq++;
    const first = this.store.run((s) => s.need.get(sha256, seq, size, path))!;
    return first.seq === seq ? undefined : { size: first.size, path: first.path };
  }

  /** Records a blob the bundle carries; returns its first reference, if an entry made one. */
  carry(sha256: string, size: number): Need | undefined {
    const need = this.store.run((s) => s.carry.get(size, sha256));
    if (need) return need.path === null ? undefined : { size: need.size!, path: need.path };
    this.store.run((s) => s.carryUnneeded.run(sha256, size));
    return undefined;
  }

  /** How many referenced blobs the bundle does not carry. */
  uncarriedCount(): number {
    return this.store.run((s) => s.uncarriedCount.get())!;
  }

  /**
   * The referenced blobs the bundle does not carry, in the order of their first reference, all
   * at once: for when uncarriedCount() is small.
   */
  uncarried(): NeededBlob[] {
    return this.store.run((s) => s.uncarried.all());
  }

  /** The repository holds this blob (a listing proves that much, not its size). */
  markStored(sha256: string): void {
    this.store.run((s) => s.markStored.run(sha256));
  }

  /** The first referenced blob neither carried nor marked stored. */
  firstMissing(): NeededBlob | undefined {
    return this.store.run((s) => s.firstMissing.get());
  }

  close(): void {
    this.store.close();
  }
}

interface NeedRow {
  seq: number;
  size: number;
  path: string;
}

function prepare(db: ScratchDb) {
  return {
    // The row as it stands after the upsert: our own seq back means this reference is the first.
    need: db.prepare<[string, number, number, string], NeedRow>(
      `INSERT INTO blob (sha256, seq, size, path) VALUES (?, ?, ?, ?)
       ON CONFLICT (sha256) DO UPDATE SET
         seq = coalesce(seq, excluded.seq), size = coalesce(size, excluded.size),
         path = coalesce(path, excluded.path)
       RETURNING seq, size, path`,
    ),
    carry: db.prepare<[number, string], { size: number | null; path: string | null }>(
      'UPDATE blob SET carried = ? WHERE sha256 = ? RETURNING size, path',
    ),
    carryUnneeded: db.prepare<[string, number]>('INSERT INTO blob (sha256, carried) VALUES (?, ?)'),
    uncarriedCount: db.prepare<[], number>(`SELECT count(*) FROM blob WHERE ${UNCARRIED}`).pluck(),
    uncarried: db.prepare<[], NeededBlob>(
      `SELECT sha256, size, path FROM blob WHERE ${UNCARRIED} ORDER BY seq`,
    ),
    markStored: db.prepare<[string]>(
      `UPDATE blob SET stored = 1 WHERE sha256 = ? AND ${UNCARRIED}`,
    ),
    firstMissing: db.prepare<[], NeededBlob>(
      `SELECT sha256, size, path FROM blob WHERE ${UNCARRIED} AND stored = 0 ORDER BY seq LIMIT 1`,
    ),
  };
}
