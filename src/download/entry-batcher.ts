import type { SnapshotEntry } from '../model.js';

type Entry = SnapshotEntry & { md5?: string };

/**
 * Collects verified entries and writes them in one transaction per batch: a row per file in
 * its own transaction would make SQLite's fsync the pace of a many-small-files download.
 * Writes run one after another in the background; the first failure is kept and rethrown by
 * every later flush(), so the run that awaits its final flush() learns of it.
 */
export class EntryBatcher {
  private pending: Entry[] = [];
  private lastFlush = Date.now();
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly write: (entries: Entry[]) => Promise<void>,
    private readonly maxEntries = 500,
    private readonly maxAgeMs = 1000,
  ) {}

  add(entry: Entry): void {
    this.pending.push(entry);
    if (this.pending.length >= this.maxEntries || Date.now() - this.lastFlush >= this.maxAgeMs)
      // Not awaited here: the failure stays in `writing` for the final flush() to rethrow.
      this.flush().catch(() => undefined);
  }

  /** Writes what is pending; resolves when every batch so far is written. */
  flush(): Promise<void> {
    this.lastFlush = Date.now();
    if (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      this.writing = this.writing.then(() => this.write(batch));
    }
    return this.writing;
  }
}
