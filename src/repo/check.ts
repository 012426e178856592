/**
 * `airlock check`: proves a repository consistent from a reader's point of view. Every
 * snapshot document published.json names must exist and hash right, and every blob an entry
 * references must exist with the entry's size (deep: and hash to its name, streaming).
 */
import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import { UsageError } from '../errors.js';
import { bundleName, manifestFileName } from '../bundle/bundle-names.js';
import { findCarriers } from './blob-carriers.js';
import {
  blobKey,
  REPOSITORY_CONFIG_KEY,
  sha256OfBlobKey,
  sha256OfSnapshotDocumentKey,
  snapshotDocumentKey,
} from './layout.js';
import { readPublished } from './published.js';
import { openSnapshotDocument } from './snapshot-document.js';
import type { Storage } from './storage.js';

export interface CheckProblem {
  kind: 'missing' | 'hash' | 'size' | 'document';
  key: string;
  detail: string;
  /** 'source/snapshot' that references the key. */
  snapshot?: string;
  /** The imported bundle that carried the blob or document: its `import --repair` rewrites it. */
  bundle?: string;
}

/** One bundle to re-import with `--repair`, and how many of the problems it fixes. */
export interface Repair {
  bundle: string;
  /** NAME.manifest.json of the bundle, to find it on the media. */
  manifest: string;
  blobs: number;
  documents: number;
}

export interface CheckSummary {
  ok: boolean;
  problems: CheckProblem[];
  snapshots: number;
  checkedBlobs: number;
  /** Bytes re-hashed (deep) or accounted for by size (shallow). */
  checkedBytes: number;
  /** The bundles whose `airlock import MANIFEST --repair` rewrites what is damaged. */
  repairs: Repair[];
  /** Problems no imported bundle accounts for (their bundle records are gone). */
  unattributed: number;
}

export type CheckEvent =
  | { type: 'check-snapshot'; source: string; snapshot: string; entries: number }
  | { type: 'check-blob'; checked: number; total: number; bytes: number }
  | { type: 'check-problem'; problem: CheckProblem };

export interface CheckOptions {
  deep?: boolean;
  /** Blobs checked at once (default 8). */
  concurrency?: number;
  onEvent?: (event: CheckEvent) => void;
}

interface Reference {
  size: number;
  path: string;
  snapshot: string;
}

export async function checkRepo(storage: Storage, opts: CheckOptions = {}): Promise<CheckSummary> {
  const problems: CheckProblem[] = [];
  const report = (problem: CheckProblem): void => {
    problems.push(problem);
    opts.onEvent?.({ type: 'check-problem', problem });
  };
  const published = await readPublished(storage);
  if (!published && !(await storage.stat(REPOSITORY_CONFIG_KEY))) {
    throw new UsageError(`${storage.location} is not an airlock repository`, {
      hint: 'check the --repo location; a repository is created by its first `airlock import`',
    });
  }
  const references = new Map<string, Reference>();
  let snapshots = 0;
  for (const [source, s] of Object.entries(published?.sources ?? {})) {
    for (const [id, snap] of Object.entries(s.snapshots)) {
      snapshots++;
      const name = `${source}/${id}`;
      opts.onEvent?.({ type: 'check-snapshot', source, snapshot: id, entries: snap.entries });
      await collectReferences(storage, snap.document, name, references, report);
    }
  }
  const { checkedBlobs, checkedBytes } = await checkBlobs(storage, references, opts, report);
  const { repairs, unattributed } = await planRepairs(storage, problems);
  return {
    ok: problems.length === 0,
    problems,
    snapshots,
    checkedBlobs,
    checkedBytes,
    repairs,
    unattributed,
  };
}

/** Names, on each problem, the bundle that carried what is damaged; groups them by bundle. */
async function planRepairs(
  storage: Storage,
  problems: CheckProblem[],
): Promise<{ repairs: Repair[]; unattributed: number }> {
  if (problems.length === 0) return { repairs: [], unattributed: 0 };
  const blobs = new Set<string>();
  const documents = new Set<string>();
  for (const p of problems) {
    const blob = sha256OfBlobKey(p.key);
    if (blob) blobs.add(blob);
    const document = sha256OfSnapshotDocumentKey(p.key);
    if (document) documents.add(document);
  }
  const carriers = await findCarriers(storage, blobs, documents);
  const byBundle = new Map<string, Repair>();
  let unattributed = 0;
  for (const p of problems) {
    const blob = sha256OfBlobKey(p.key);
    const document = sha256OfSnapshotDocumentKey(p.key);
    const bundle =
      (blob && carriers.blobs.get(blob)) ?? (document && carriers.documents.get(document));
    if (!bundle) {
      unattributed += 1;
      continue;
    }
    p.bundle = bundle;
    let repair = byBundle.get(bundle);
    if (!repair) {
      repair = { bundle, manifest: manifestFileName(bundleName(bundle)), blobs: 0, documents: 0 };
      byBundle.set(bundle, repair);
    }
    if (blob) repair.blobs += 1;
    else repair.documents += 1;
  }
  return { repairs: [...byBundle.values()], unattributed };
}

async function collectReferences(
  storage: Storage,
  document: string,
  snapshot: string,
  references: Map<string, Reference>,
  report: (p: CheckProblem) => void,
): Promise<void> {
  const key = snapshotDocumentKey(document);
  try {
    const opened = await openSnapshotDocument(storage, document);
    for await (const entry of opened.entries) {
      const known = references.get(entry.sha256);
      if (known && known.size !== entry.size) {
        report({
          kind: 'size',
          key: blobKey(entry.sha256),
          detail: `${entry.path} says ${entry.size} bytes, ${known.snapshot} ${known.path} says ${known.size}`,
          snapshot,
        });
      } else if (!known) {
        references.set(entry.sha256, { size: entry.size, path: entry.path, snapshot });
      }
    }
  } catch (err) {
    if ((err as { code?: string }).code !== 'EDOCUMENT') throw err;
    report({ kind: 'document', key, detail: (err as Error).message, snapshot });
  }
}

async function checkBlobs(
  storage: Storage,
  references: Map<string, Reference>,
  opts: CheckOptions,
  report: (p: CheckProblem) => void,
): Promise<{ checkedBlobs: number; checkedBytes: number }> {
  const limit = pLimit(opts.concurrency ?? 8);
  let checkedBlobs = 0;
  let checkedBytes = 0;
  const total = references.size;
  await Promise.all(
    [...references].map(([sha256, ref]) =>
      limit(async () => {
        const problem = await checkBlob(storage, sha256, ref, opts.deep ?? false);
        if (problem) report(problem);
        checkedBlobs++;
        checkedBytes += ref.size;
        opts.onEvent?.({ type: 'check-blob', checked: checkedBlobs, total, bytes: checkedBytes });
      }),
    ),
  );
  return { checkedBlobs, checkedBytes };
}

async function checkBlob(
  storage: Storage,
  sha256: string,
  ref: Reference,
  deep: boolean,
): Promise<CheckProblem | undefined> {
  const key = blobKey(sha256);
  const where = { key, snapshot: ref.snapshot };
  const info = await storage.stat(key);
  if (!info) return { kind: 'missing', ...where, detail: `needed by ${ref.path}` };
  if (info.size !== ref.size) {
    return {
      kind: 'size',
      ...where,
      detail: `${info.size} bytes stored, ${ref.path} says ${ref.size}`,
    };
  }
  if (!deep) return undefined;
  const body = await storage.read(key);
  if (!body) return { kind: 'missing', ...where, detail: `vanished while checking ${ref.path}` };
  const hash = createHash('sha256');
  for await (const chunk of body) hash.update(chunk as Buffer);
  const actual = hash.digest('hex');
  if (actual === sha256) return undefined;
  return { kind: 'hash', ...where, detail: `its bytes hash to ${actual} (needed by ${ref.path})` };
}
