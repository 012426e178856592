/**
 * One request aimed at a snapshot, resolved once: the state, the snapshot (with 'latest'
 * already turned into an id) and its loaded index. Handlers serve only from this, so a
 * publish in the middle of a request never mixes two snapshots.
 */
import type { Variant } from '../model.js';
import type { Storage } from '../repo/storage.js';
import type { RepositoryState, RepositoryView, ResolvedSnapshot } from './repository-view.js';
import type { RouteMatch } from './route-table.js';
import type { Exchange } from './send.js';
import type { ServedFile, SnapshotIndex } from './snapshot-index.js';
import type { PageCache } from './page-cache.js';

export interface SnapshotRequest {
  ex: Exchange;
  storage: Storage;
  view: RepositoryView;
  pages: PageCache;
  state: RepositoryState;
  match: RouteMatch;
  snapshot: ResolvedSnapshot;
  index: SnapshotIndex;
}

const IMMUTABLE = 'public, max-age=31536000, immutable';
const LATEST = 'public, max-age=300';
// A dated index could in principle be re-published by a corrective import; files cannot
// change (their name pins their content), so only files are immutable.
const DATED_INDEX = 'public, max-age=3600';

export function cacheControl(sr: SnapshotRequest, role: ServedFile['role'] | 'page'): string {
  if (sr.match.snapshot === 'latest') return LATEST;
  return role === 'package' || role === 'metadata' ? IMMUTABLE : DATED_INDEX;
}

export function lastModified(sr: SnapshotRequest): string | undefined {
  const time = Date.parse(sr.snapshot.published.publishedAt);
  return Number.isFinite(time) ? new Date(time).toUTCString() : undefined;
}

/**
 * A package or metadata file of the snapshot. Under 'latest', a file the newest snapshot no
 * longer holds is still served from the previous one: a client that read the previous index
 * just before a publish then finishes its install instead of failing half-way.
 */
export async function findPackageFile(
  sr: SnapshotRequest,
  path: string,
  variants: readonly Variant[],
): Promise<ServedFile | undefined> {
  const found = firstVariant(sr.index, path, variants);
  if (found || sr.match.snapshot !== 'latest') return found;
  const ids = sr.state.snapshotIds.get(sr.match.route.source) ?? [];
  const previousId = ids[ids.indexOf(sr.snapshot.id) - 1];
  const previous =
    previousId && sr.state.published.sources[sr.match.route.source]?.snapshots[previousId];
  if (!previous) return undefined;
  // The previous snapshot may have just been pruned (its document deleted): then it holds nothing.
  const index = await sr.view.snapshot(previous.document).catch((err: unknown) => {
    if ((err as { code?: unknown }).code === 'EDOCUMENT') return undefined;
    throw err;
  });
  const file = index && firstVariant(index, path, variants);
  return file && file.role !== 'index' ? file : undefined;
}

export function firstVariant(
  index: SnapshotIndex,
  path: string,
  variants: readonly Variant[],
): ServedFile | undefined {
  for (const variant of variants) {
    const file = index.find(path, variant);
    if (file) return file;
  }
  return undefined;
}
