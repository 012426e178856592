import type { SnapshotEntry } from '../model.js';

type Entry = SnapshotEntry & { md5?: string };

/**
 * Collects verified entries and writes them in one transaction per batch: a row per file in
 * its own transaction would make SQLite's fsync the pace of a many-small-files download.
 */
export class EntryBatcher {
  private pending: Entry[] = [];
  private lastFlush = Date.now();

  constructor(
    private readonly write: (entries: Entry[]) => void,
    private readonly maxEntries = 500,
    private readonly maxAgeMs = 1000,
  ) {}

  add(entry: Entry): void {
    this.pending.push(entry);
    if (this.pending.length >= this.maxEntries || Date.now() - this.lastFlush >= this.maxAgeMs)
      this.flush();
  }

  flush(): void {
    this.lastFlush = Date.now();
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.write(batch);
  }
}
