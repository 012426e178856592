/**
 * The files of a source's plan, kept in a scratch SQLite file instead of the JavaScript heap:
 * a 200,000-file plan held as objects was most of a download's memory (and V8 grows its heap
 * to a multiple of what is live). Files are appended while planning and read back in order,
 * a page at a time, by the run and the dry-run report. The totals are kept as files are added.
 */
import { ScratchStore, type ScratchDb } from '../scratch-db.js';
import type { PlannedFile } from './plan-types.js';

export interface PlanTotals {
  files: number;
  present: number;
  bytes: number;
  newBytes: number;
  unknownSizes: number;
}

/** Rows per read. */
const PAGE = 2048;
/** SQLite's page cache: what it holds in memory before it spills to its temporary file. */
const CACHE_KIB = 4096;

function prepare(db: ScratchDb) {
  return {
    insert: db.prepare<[string]>('INSERT INTO files (file) VALUES (?)'),
    page: db.prepare<[number, number], { id: number; file: string }>(
      'SELECT id, file FROM files WHERE id > ? ORDER BY id LIMIT ?',
    ),
  };
}

export class PlanFiles implements Iterable<PlannedFile> {
  // Anonymous: pages beyond the cache go to a file in TMPDIR that SQLite unlinks as it creates
  // it, so no crash or kill leaves it behind; the next plan rebuilds it.
  private readonly store = new ScratchStore(
    undefined,
    CACHE_KIB,
    'CREATE TABLE files (id INTEGER PRIMARY KEY, file TEXT NOT NULL)',
    prepare,
  );

  readonly totals: PlanTotals = { files: 0, present: 0, bytes: 0, newBytes: 0, unknownSizes: 0 };

  get length(): number {
    return this.totals.files;
  }

  push(file: PlannedFile): void {
    const row = JSON.stringify(file);
    this.store.run((s) => s.insert.run(row));
    const t = this.totals;
    t.files++;
    if (file.size === undefined) t.unknownSizes++;
    t.bytes += file.size ?? 0;
    if (file.present !== undefined) t.present++;
    else t.newBytes += file.size ?? 0;
  }

  /** In the order pushed. Each pass reads the table afresh: a page of rows in memory at a time. */
  *[Symbol.iterator](): Iterator<PlannedFile> {
    let after = 0;
    for (;;) {
      const rows = this.store.run((s) => s.page.all(after, PAGE));
      for (const row of rows) yield JSON.parse(row.file) as PlannedFile;
      if (rows.length < PAGE) return;
      after = rows[rows.length - 1]!.id;
    }
  }

  close(): void {
    this.store.close();
  }
}
