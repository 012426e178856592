/**
 * The indexes of the snapshot documents a server has served: one SQLite file per document in
 * the server's private scratch directory (built on first use, kept until close), and open
 * handles for the most recently used few. Documents are immutable, so a built index is never
 * stale; what stays bounded is memory: open handles, not entries.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Storage } from '../repo/storage.js';
import { buildSnapshotIndex } from './index-build.js';
import { makeIndexDir, removeIndexDir } from './index-dir.js';
import { LruCache } from '../lru-cache.js';
import { SnapshotIndex } from './snapshot-index.js';

export interface SnapshotIndexesOptions {
  /** Where the scratch directory goes (default: the system temp directory, $TMPDIR). */
  tempDir?: string;
  /** Index handles kept open (default 16). */
  maxOpen?: number;
  /** Told how long each index build took, and whether it succeeded (metrics). */
  onBuilt?: (seconds: number, ok: boolean) => void;
}

export class SnapshotIndexes {
  private readonly open: LruCache<string, Promise<SnapshotIndex>>;
  /** Builds in flight, by document: shared by every request, whatever the LRU evicts. */
  private readonly builds = new Map<string, Promise<void>>();
  /** Handles being closed as their load ends (an evicted index may still be loading). */
  private readonly closing = new Set<Promise<void>>();

  private constructor(
    private readonly storage: Storage,
    /** The private scratch directory. */
    readonly dir: string,
    maxOpen: number,
    private readonly onBuilt: (seconds: number, ok: boolean) => void = () => {},
  ) {
    this.open = new LruCache(maxOpen, (evicted) => {
      const closed = evicted.then(
        (index) => index.close(),
        () => {},
      );
      this.closing.add(closed);
      void closed.finally(() => this.closing.delete(closed));
    });
  }

  /** Creates the scratch directory; a StorageError naming it when the disk says no. */
  static async create(
    storage: Storage,
    options: SnapshotIndexesOptions = {},
  ): Promise<SnapshotIndexes> {
    return new SnapshotIndexes(
      storage,
      await makeIndexDir(options.tempDir),
      options.maxOpen ?? 16,
      options.onBuilt,
    );
  }

  /** A document's index: built once (concurrent callers share the build), then opened. */
  get(document: string): Promise<SnapshotIndex> {
    let opening = this.open.get(document);
    if (!opening) {
      const promise = this.openIndex(document);
      promise.catch(() => {
        if (this.open.peek(document) === promise) this.open.delete(document);
      });
      this.open.set(document, promise);
      opening = promise;
    }
    return opening;
  }

  /** Closes every handle and removes the scratch directory (after builds in flight end). */
  async close(): Promise<void> {
    await Promise.allSettled([...this.builds.values()]);
    this.open.clear();
    await Promise.allSettled([...this.closing]);
    await removeIndexDir(this.dir);
  }

  private async openIndex(document: string): Promise<SnapshotIndex> {
    const file = join(this.dir, `${document}.db`);
    if (!(await exists(file))) await this.build(document, file);
    return SnapshotIndex.open(document, file);
  }

  private build(document: string, file: string): Promise<void> {
    let building = this.builds.get(document);
    if (!building) {
      const started = performance.now();
      building = buildSnapshotIndex(this.storage, document, file)
        .then(
          () => this.onBuilt((performance.now() - started) / 1000, true),
          (err: unknown) => {
            this.onBuilt((performance.now() - started) / 1000, false);
            throw err;
          },
        )
        .finally(() => this.builds.delete(document));
      this.builds.set(document, building);
    }
    return building;
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
