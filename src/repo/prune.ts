/**
 * `airlock prune --repo`: removes snapshots from published.json and deletes what no published
 * snapshot references any more, once its grace period has passed. Under the import lock, in
 * this order (each step idempotent, so a re-run after a kill at any point finishes the job):
 *
 * 1. prune.json: every unreferenced key with the time it was first seen so (the blobs and
 *    documents of the snapshots about to go start their grace period now);
 * 2. published.json without the removed snapshots, in one atomic write, as an import publishes;
 * 3. delete the keys whose grace period has passed (documents, then blobs);
 * 4. prune.json without the deleted keys.
 *
 * "Unreferenced" is decided against every published snapshot at the time of the run, and the
 * import lock keeps imports out meanwhile: a blob that a later import found present (and so did
 * not write again) is referenced again and leaves the pending list. The whole store is listed,
 * so leftovers of failed imports and documents replaced by a re-import are collected too.
 */
import pLimit from 'p-limit';
import { UsageError } from '../errors.js';
import {
  nameMatches,
  selectSnapshots,
  type DropReason,
  type RetentionRule,
} from '../prune/retention.js';
import { readBundleRecord } from './bundle-record.js';
import { acquireImportLock, type LockEvent } from './import-lock.js';
import {
  BLOBS_PREFIX,
  BUNDLES_PREFIX,
  bundleIdOfRecordKey,
  PUBLISHED_KEY,
  REPOSITORY_CONFIG_KEY,
  SNAPSHOTS_PREFIX,
  sha256OfBlobKey,
  sha256OfSnapshotDocumentKey,
} from './layout.js';
import {
  emptyPruneRecord,
  firstDue,
  readPruneRecord,
  writePruneRecord,
  type PendingKey,
  type PruneRecord,
} from './prune-record.js';
import {
  emptyPublished,
  readPublished,
  serializePublished,
  type Published,
  type PublishedSnapshot,
} from './published.js';
import { openSnapshotDocument } from './snapshot-document.js';
import type { Storage } from './storage.js';

export interface RepoPruneOptions {
  storage: Storage;
  rule: RetentionRule;
  /** How long an unreferenced key stays before it is deleted. */
  graceMs: number;
  /** Report what would happen; write and delete nothing (and take no lock). */
  dryRun?: boolean;
  /** Wait for a running import instead of failing with ELOCKED. */
  wait?: boolean;
  signal?: AbortSignal;
  onEvent?: (event: RepoPruneEvent) => void;
  /** The clock (tests). */
  now?: () => Date;
}

export type RepoPruneEvent =
  | LockEvent
  | { type: 'prune-published'; generation: number; removed: number }
  | { type: 'prune-delete'; done: number; total: number; bytes: number };

export interface KeyCounts {
  blobs: number;
  documents: number;
  bytes: number;
}

export interface RepoPruneSummary {
  dryRun: boolean;
  graceMs: number;
  /** The snapshots removed from published.json (or that would be, on a dry run). */
  snapshots: {
    source: string;
    snapshot: string;
    reason: DropReason;
    document: string;
    entries: number;
    bytes: number;
  }[];
  /** Named snapshots that an earlier prune already removed ('source/id'). */
  alreadyPruned: string[];
  /** Keys deleted by this run (dry run: that would be): their grace period has passed. */
  deleted: KeyCounts;
  /** Keys no published snapshot references that wait for their grace period. */
  waiting: KeyCounts & { nextDueAt: string | undefined };
  /** published.json's generation after the run. */
  generation: number;
}

interface PublishedCandidate {
  source: string;
  snapshot: string;
  eligible: true;
  published: PublishedSnapshot;
}

export async function pruneRepository(opts: RepoPruneOptions): Promise<RepoPruneSummary> {
  const { storage } = opts;
  if (!(await storage.stat(REPOSITORY_CONFIG_KEY)) && !(await storage.stat(PUBLISHED_KEY))) {
    throw new UsageError(`${storage.location} is not an airlock repository`, {
      hint: 'check the --repo location; a repository is created by its first `airlock import`',
    });
  }
  const lock = opts.dryRun
    ? undefined
    : await acquireImportLock(storage, {
        ...(opts.wait === undefined ? {} : { wait: opts.wait }),
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
      });
  try {
    // Each step that changes the repository first checks the lock is still ours: another
    // importer or prune that took it over must not interleave with this one.
    return await pruneLocked(opts, () => lock?.throwIfLost());
  } finally {
    await lock?.release();
  }
}

async function pruneLocked(
  opts: RepoPruneOptions,
  stillLocked: () => void,
): Promise<RepoPruneSummary> {
  const { storage, graceMs } = opts;
  const now = (opts.now ?? (() => new Date()))();
  const published = (await readPublished(storage)) ?? emptyPublished();
  const record = (await readPruneRecord(storage)) ?? emptyPruneRecord();
  const candidates: PublishedCandidate[] = Object.entries(published.sources).flatMap(
    ([source, s]) =>
      Object.entries(s.snapshots).map(([snapshot, p]) => ({
        source,
        snapshot,
        eligible: true as const,
        published: p,
      })),
  );
  const selection = selectSnapshots(candidates, opts.rule);
  const alreadyPruned = recognisePruned(selection.unmatched, record, candidates, storage);
  const dropped = new Set(selection.drop.map((d) => d.candidate));
  const kept = candidates.filter((c) => !dropped.has(c));

  const bundles = await bundleIds(storage);
  const republished = await documentsImportedSince(storage, record, bundles);
  const unreferenced = await findUnreferenced(storage, record, candidates, kept, republished, now);
  const due = [...unreferenced].filter(([, p]) => Date.parse(p.since) + graceMs <= now.getTime());
  const dueKeys = new Set(due.map(([key]) => key));
  const waiting = [...unreferenced].filter(([key]) => !dueKeys.has(key));
  const summary: RepoPruneSummary = {
    dryRun: opts.dryRun ?? false,
    graceMs,
    snapshots: selection.drop.map(({ candidate: c, reason }) => ({
      source: c.source,
      snapshot: c.snapshot,
      reason,
      document: c.published.document,
      entries: c.published.entries,
      bytes: c.published.bytes,
    })),
    alreadyPruned,
    deleted: countKeys(due),
    waiting: { ...countKeys(waiting), nextDueAt: firstDue(waiting, graceMs) },
    generation: published.generation,
  };
  if (opts.dryRun) return summary;

  const stamp = now.toISOString();
  const next: PruneRecord = {
    format: record.format,
    updatedAt: stamp,
    pruned: [
      // A re-run after a kill before published.json changed removes the same ones again.
      ...record.pruned.filter(
        (p) => ![...dropped].some((c) => c.source === p.source && c.snapshot === p.snapshot),
      ),
      ...[...dropped].map((c) => ({
        source: c.source,
        snapshot: c.snapshot,
        document: c.published.document,
        bundle: c.published.bundle,
        prunedAt: stamp,
      })),
    ],
    pending: Object.fromEntries(unreferenced),
    bundles,
  };
  stillLocked();
  await writePruneRecord(storage, next);
  if (dropped.size > 0) {
    stillLocked();
    summary.generation = await unpublish(storage, published, dropped, now);
    opts.onEvent?.({
      type: 'prune-published',
      generation: summary.generation,
      removed: dropped.size,
    });
  }
  if (due.length > 0) {
    stillLocked();
    await deleteKeys(storage, due, opts);
    for (const key of dueKeys) delete next.pending[key];
    await writePruneRecord(storage, next);
  }
  return summary;
}

/**
 * Names that match no published snapshot: fine when an earlier prune removed them (a re-run of
 * the same command), a usage error otherwise (a typo must not pass for success).
 */
function recognisePruned(
  unmatched: ReturnType<typeof selectSnapshots>['unmatched'],
  record: PruneRecord,
  candidates: PublishedCandidate[],
  storage: Storage,
): string[] {
  const already: string[] = [];
  const unknown: string[] = [];
  for (const name of unmatched) {
    const hits = record.pruned.filter((p) => nameMatches(name, p.source, p.snapshot));
    if (hits.length === 0) unknown.push(name.text);
    for (const hit of hits) already.push(`${hit.source}/${hit.snapshot}`);
  }
  if (unknown.length > 0) {
    const names = candidates.map((c) => `${c.source}/${c.snapshot}`);
    throw new UsageError(
      `--snapshot ${unknown.join(', ')}: ${storage.location} publishes no snapshot by that name`,
      {
        hint: `published: ${names.join(', ') || 'none'} (\`airlock status --repo\` lists them)`,
      },
    );
  }
  return [...new Set(already)];
}

async function bundleIds(storage: Storage): Promise<string[]> {
  const ids: string[] = [];
  for await (const key of storage.list(BUNDLES_PREFIX)) {
    const id = bundleIdOfRecordKey(key);
    if (id !== undefined) ids.push(id);
  }
  return ids.sort();
}

/**
 * The pending documents that an import since the last prune published again (the same
 * snapshot bytes carried a second time): they were served meanwhile, so their grace period
 * starts again even if a later import replaced them before this run. Only the bundle records
 * the last prune did not see are read.
 */
async function documentsImportedSince(
  storage: Storage,
  record: PruneRecord,
  bundles: string[],
): Promise<Set<string>> {
  const documents = new Set<string>();
  const pendingDocuments = Object.keys(record.pending).some(
    (key) => sha256OfSnapshotDocumentKey(key) !== undefined,
  );
  if (!pendingDocuments) return documents;
  const seen = new Set(record.bundles);
  for (const id of bundles) {
    if (seen.has(id)) continue;
    const imported = await readBundleRecord(storage, id);
    for (const s of imported?.snapshots ?? []) documents.add(s.document);
  }
  return documents;
}

/**
 * Every blob and document no snapshot that stays published references, with the time its
 * grace period started: now for what was published until this run (or since the last prune,
 * or named by a document found unreferenced for the first time: a snapshot replaced by a
 * re-import), else the time an earlier prune recorded.
 */
async function findUnreferenced(
  storage: Storage,
  record: PruneRecord,
  candidates: PublishedCandidate[],
  kept: PublishedCandidate[],
  republished: Set<string>,
  now: Date,
): Promise<Map<string, PendingKey>> {
  const stamp = now.toISOString();
  const keptDocs = new Set(kept.map((c) => c.published.document));
  const publishedDocs = new Set(candidates.map((c) => c.published.document));
  const referenced = new Map<string, number>();
  for (const doc of keptDocs) await addReferences(storage, doc, referenced, true);

  const unreferenced = new Map<string, PendingKey>();
  const recent = new Map<string, number>();
  for await (const key of storage.list(SNAPSHOTS_PREFIX)) {
    const doc = sha256OfSnapshotDocumentKey(key);
    if (doc === undefined || keptDocs.has(doc)) continue;
    const previous = record.pending[key];
    const fresh = previous === undefined || publishedDocs.has(doc) || republished.has(doc);
    if (fresh) await addReferences(storage, doc, recent, false);
    const size = previous?.size ?? (await storage.stat(key))?.size ?? 0;
    unreferenced.set(key, { since: fresh ? stamp : previous.since, size });
  }
  for await (const key of storage.list(BLOBS_PREFIX)) {
    const sha = sha256OfBlobKey(key);
    if (sha === undefined || referenced.has(sha)) continue;
    const previous = record.pending[key];
    const fresh = previous === undefined || recent.has(sha);
    const size = recent.get(sha) ?? previous?.size ?? (await storage.stat(key))?.size ?? 0;
    unreferenced.set(key, { since: fresh ? stamp : previous.since, size });
  }
  return unreferenced;
}

/**
 * Adds the blobs a document names (sha256 → size). A published document must read whole; an
 * unreferenced one that is damaged names nothing anybody is served.
 */
async function addReferences(
  storage: Storage,
  document: string,
  into: Map<string, number>,
  mustRead: boolean,
): Promise<void> {
  try {
    const opened = await openSnapshotDocument(storage, document);
    for await (const entry of opened.entries) into.set(entry.sha256, entry.size);
  } catch (err) {
    if (mustRead || (err as { code?: string }).code !== 'EDOCUMENT') throw err;
  }
}

async function unpublish(
  storage: Storage,
  published: Published,
  dropped: Set<PublishedCandidate>,
  now: Date,
): Promise<number> {
  const next: Published = structuredClone(published);
  for (const c of dropped) {
    const source = next.sources[c.source];
    if (!source) continue;
    delete source.snapshots[c.snapshot];
    // A source with nothing left is no longer served (its routes answer 404).
    if (Object.keys(source.snapshots).length === 0) delete next.sources[c.source];
  }
  next.generation = published.generation + 1;
  next.updatedAt = now.toISOString();
  await storage.write(PUBLISHED_KEY, serializePublished(next));
  return next.generation;
}

async function deleteKeys(
  storage: Storage,
  due: [string, PendingKey][],
  opts: RepoPruneOptions,
): Promise<void> {
  // Documents first: a document left behind by a kill names blobs nobody is served anyway.
  const ordered = [...due].sort(([a], [b]) => Number(isBlob(a)) - Number(isBlob(b)));
  const limit = pLimit(storage.parallelWrites ?? 1);
  let done = 0;
  let bytes = 0;
  await Promise.all(
    ordered.map(([key, p]) =>
      limit(async () => {
        opts.signal?.throwIfAborted();
        await storage.delete(key);
        done += 1;
        bytes += p.size;
        opts.onEvent?.({ type: 'prune-delete', done, total: ordered.length, bytes });
      }),
    ),
  );
}

function countKeys(keys: [string, PendingKey][]): KeyCounts {
  const counts: KeyCounts = { blobs: 0, documents: 0, bytes: 0 };
  for (const [key, p] of keys) {
    if (isBlob(key)) counts.blobs += 1;
    else counts.documents += 1;
    counts.bytes += p.size;
  }
  return counts;
}

function isBlob(key: string): boolean {
  return sha256OfBlobKey(key) !== undefined;
}
