/**
 * What the server knows about the repository: published.json (re-checked at most every
 * `refreshMs`, re-parsed only when its storage version changed) and the snapshot documents it
 * names (immutable, so indexed once on local disk, by sha256). Several servers over one bucket stay
 * consistent because each one only ever reads: a snapshot published by another process shows
 * up at the next check, without a restart.
 */
import { StorageError } from '../errors.js';
import type { ServeEvent } from './server.js';
import { PUBLISHED_KEY } from '../repo/layout.js';
import type { Storage } from '../repo/storage.js';
import { parsePublished, type Published, type PublishedSnapshot } from '../repo/published.js';
import { buildRoutes, type Route } from './route-table.js';
import type { SnapshotIndex } from './snapshot-index.js';
import type { SnapshotIndexes } from './snapshot-indexes.js';

/** One published.json as the server uses it: parsed once, with its routing table. */
export interface RepositoryState {
  published: Published;
  routes: Route[];
  /** Per source: snapshot ids, oldest first. */
  snapshotIds: Map<string, string[]>;
}

export interface ResolvedSnapshot {
  id: string;
  published: PublishedSnapshot;
}

const EMPTY: Published = { format: 1, generation: 0, updatedAt: '', sources: {} };

export class RepositoryView {
  private state: RepositoryState = stateOf(EMPTY);
  private version: string | undefined;
  private checkedAt = -Infinity;
  private refreshing: Promise<void> | undefined;
  /** Why the last check failed; undefined after a good one. */
  private lastError: Error | undefined = new Error('published.json has not been read yet');

  constructor(
    private readonly storage: Storage,
    private readonly refreshMs: number,
    private readonly indexes: SnapshotIndexes,
    private readonly onEvent: (event: ServeEvent) => void = () => {},
  ) {}

  /**
   * The current state. A request calls this ONCE and serves from the result, so a publish
   * during the request never mixes two states. When a re-check fails, the last good state
   * keeps being served (a storage hiccup should not take the mirror down).
   */
  async current(): Promise<RepositoryState> {
    if (performance.now() - this.checkedAt >= this.refreshMs) {
      this.refreshing ??= this.refresh().finally(() => (this.refreshing = undefined));
      await this.refreshing;
    }
    return this.state;
  }

  /** Undefined when published.json was readable at the last check, else why not. */
  health(): Error | undefined {
    return this.lastError;
  }

  /** The snapshot a requested id names: 'latest' is the newest published id. */
  resolve(state: RepositoryState, source: string, requested: string): ResolvedSnapshot | undefined {
    const ids = state.snapshotIds.get(source) ?? [];
    const id = requested === 'latest' ? ids[ids.length - 1] : requested;
    const published = id === undefined ? undefined : state.published.sources[source]?.snapshots[id];
    return id !== undefined && published ? { id, published } : undefined;
  }

  /**
   * Whether a snapshot is still published with this document, by a fresh read of
   * published.json: after a file of it went missing, this tells a snapshot that `airlock
   * prune` removed (404) from a damaged repository (an error).
   */
  async stillPublished(source: string, id: string, document: string): Promise<boolean> {
    this.checkedAt = -Infinity;
    const state = await this.current();
    return state.published.sources[source]?.snapshots[id]?.document === document;
  }

  /** A snapshot document's index, built once (concurrent requests share the build). */
  snapshot(document: string): Promise<SnapshotIndex> {
    return this.indexes.get(document);
  }

  private async refresh(): Promise<void> {
    try {
      const info = await this.storage.stat(PUBLISHED_KEY);
      if (!info)
        throw new Error(
          `${PUBLISHED_KEY} does not exist in ${this.storage.location}: nothing is imported yet`,
        );
      if (info.version !== this.version) {
        const bytes = await this.storage.readBuffer(PUBLISHED_KEY);
        if (!bytes)
          throw new Error(
            `${PUBLISHED_KEY} vanished from ${this.storage.location} while being read`,
          );
        const published = parsePublished(bytes, this.storage.location);
        this.state = stateOf(published);
        const snapshots = [...this.state.snapshotIds.values()].reduce(
          (n, ids) => n + ids.length,
          0,
        );
        this.onEvent({ type: 'published-changed', generation: published.generation, snapshots });
        this.version = info.version;
      }
      this.lastError = undefined;
    } catch (err) {
      const wasHealthy = this.lastError === undefined || this.checkedAt === -Infinity;
      this.lastError =
        err instanceof Error
          ? err
          : new StorageError(`cannot read ${PUBLISHED_KEY}: ${String(err)}`);
      if (wasHealthy)
        this.onEvent({ type: 'published-unreadable', message: this.lastError.message });
    } finally {
      this.checkedAt = performance.now();
    }
  }
}

function stateOf(published: Published): RepositoryState {
  const snapshotIds = new Map<string, string[]>();
  for (const [name, source] of Object.entries(published.sources)) {
    snapshotIds.set(name, Object.keys(source.snapshots).sort());
  }
  return { published, routes: buildRoutes(published.sources), snapshotIds };
}
