/**
 * The last two steps of an import: replace published.json (one atomic write that makes the
 * bundle's snapshots visible), then record the bundle (bundles/<id>.json). A crash between
 * them is harmless: the re-run finds published.json already pointing at the same documents,
 * leaves it as it is, and writes the record.
 */
import type { SnapshotDescriptor } from '../model.js';
import { PUBLISHED_KEY } from './layout.js';
import { emptyPublished, readPublished, serializePublished, type Published } from './published.js';
import type { Storage } from './storage.js';

export interface SnapshotToPublish {
  descriptor: SnapshotDescriptor;
  document: string;
  entries: number;
  bytes: number;
}

/**
 * Adds or replaces the snapshots in published.json. Must run under the import lock (it is a
 * read-modify-write). Returns the generation now published and whether anything changed.
 */
export async function publishSnapshots(
  storage: Storage,
  bundleId: string,
  snapshots: SnapshotToPublish[],
  now: Date = new Date(),
): Promise<{ generation: number; changed: boolean }> {
  const current = (await readPublished(storage)) ?? emptyPublished();
  const next: Published = structuredClone(current);
  let changed = false;
  for (const s of snapshots) {
    const d = s.descriptor;
    const source = (next.sources[d.source] ??= {
      type: d.type,
      servedTemplate: d.servedTemplate,
      ...(d.distribution === undefined ? {} : { distribution: d.distribution }),
      snapshots: {},
    });
    // The newest import describes how the source is served.
    source.type = d.type;
    source.servedTemplate = d.servedTemplate;
    if (d.distribution === undefined) delete source.distribution;
    else source.distribution = d.distribution;
    const existing = source.snapshots[d.snapshot];
    if (existing?.document === s.document && existing.bundle === bundleId) continue;
    source.snapshots[d.snapshot] = {
      document: s.document,
      entries: s.entries,
      bytes: s.bytes,
      publishedAt: now.toISOString(),
      bundle: bundleId,
    };
    changed = true;
  }
  if (!changed && JSON.stringify(sourcesShape(next)) === JSON.stringify(sourcesShape(current))) {
    return { generation: current.generation, changed: false };
  }
  next.generation = current.generation + 1;
  next.updatedAt = now.toISOString();
  await storage.write(PUBLISHED_KEY, serializePublished(next));
  return { generation: next.generation, changed: true };
}

function sourcesShape(p: Published): unknown {
  return Object.entries(p.sources).map(([n, s]) => [n, s.type, s.servedTemplate, s.distribution]);
}
