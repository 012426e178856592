/**
 * `airlock check`: proves a repository consistent from a reader's point of view. Every
 * snapshot document published.json names must exist and hash right, and every blob an entry
 * references must exist with the entry's size (deep: and hash to its name, streaming).
 */
import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import { UsageError } from '../errors.js';
import { blobKey, REPOSITORY_CONFIG_KEY, snapshotDocumentKey } from './layout.js';
import { readPublished } from './published.js';
import { openSnapshotDocument } from './snapshot-document.js';
import type { Storage } from './storage.js';

export interface CheckProblem {
  kind: 'missing' | 'hash' | 'size' | 'document';
  key: string;
  detail: string;
  /** 'source/snapshot' that references the key. */
  snapshot?: string;
}

export interface CheckSummary {
  ok: boolean;
  problems: CheckProblem[];
  snapshots: number;
  checkedBlobs: number;
  /** Bytes re-hashed (deep) or accounted for by size (shallow). */
  checkedBytes: number;
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
  return { ok: problems.length === 0, problems, snapshots, checkedBlobs, checkedBytes };
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
