/**
 * `airlock status --repo`: what a repository serves (sources, snapshots with their sizes),
 * which bundles went into it, and whether an import holds the lock right now.
 */
import { UsageError } from '../errors.js';
import { listBundleRecords, type SignatureState } from './bundle-record.js';
import { readImportLock, type LockRecord } from './import-lock.js';
import { readPruneRecord } from './prune-record.js';
import { latestSnapshotId, readPublished } from './published.js';
import {
  readRepositoryConfig,
  type RepositoryConfig,
  type RepositoryPolicy,
} from './repository-config.js';
import type { SourceType } from '../model.js';
import type { Storage } from './storage.js';
import { repositoryTrust } from './trusted-keys.js';

export interface RepoStatus {
  location: string;
  generation: number;
  updatedAt: string | undefined;
  policy: RepositoryPolicy;
  /** The signing keys the repository trusts, by fingerprint; open: it trusts none. */
  trust: { open: boolean; trustedKeys: string[] };
  sources: {
    name: string;
    type: SourceType;
    servedTemplate: string;
    latest: string | undefined;
    snapshots: {
      id: string;
      entries: number;
      bytes: number;
      publishedAt: string;
      bundle: string;
      document: string;
    }[];
  }[];
  bundles: {
    id: string;
    parent: string | null;
    full: boolean;
    createdAt: string;
    importedAt: string;
    signature: SignatureState;
  }[];
  /** The import holding the lock, if one runs (or died without releasing it). */
  lock: LockRecord | undefined;
  /**
   * What `airlock prune` found unreferenced and deletes once its grace period has passed (as
   * of the last prune: prune.json, one read).
   */
  pendingDeletion: { blobs: number; documents: number; bytes: number; oldestSince?: string };
}

export async function repoStatus(storage: Storage): Promise<RepoStatus> {
  const config = await readRepositoryConfig(storage);
  const published = await readPublished(storage);
  if (!config && !published) {
    throw new UsageError(`${storage.location} is not an airlock repository`, {
      hint: 'check the --repo location; a repository is created by its first `airlock import`',
    });
  }
  const sources = Object.entries(published?.sources ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, s]) => ({
      name,
      type: s.type,
      servedTemplate: s.servedTemplate,
      latest: latestSnapshotId(s),
      snapshots: Object.entries(s.snapshots)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([id, snap]) => ({ id, ...snap })),
    }));
  const bundles = (await listBundleRecords(storage)).map((r) => ({
    id: r.id,
    parent: r.parent,
    full: r.full,
    createdAt: r.createdAt,
    importedAt: r.importedAt,
    signature: r.signature,
  }));
  return {
    location: storage.location,
    generation: published?.generation ?? 0,
    updatedAt: published?.updatedAt,
    policy: config?.policy ?? { requireSignature: false, trustedKeys: [] },
    trust: trustSummary(config),
    sources,
    bundles,
    lock: await readImportLock(storage),
    pendingDeletion: await pendingDeletion(storage),
  };
}

async function pendingDeletion(storage: Storage): Promise<RepoStatus['pendingDeletion']> {
  const record = await readPruneRecord(storage);
  const counts: RepoStatus['pendingDeletion'] = { blobs: 0, documents: 0, bytes: 0 };
  for (const [key, pending] of Object.entries(record?.pending ?? {})) {
    if (key.startsWith('blobs/')) counts.blobs += 1;
    else counts.documents += 1;
    counts.bytes += pending.size;
    if (counts.oldestSince === undefined || pending.since < counts.oldestSince)
      counts.oldestSince = pending.since;
  }
  return counts;
}

function trustSummary(config: RepositoryConfig | undefined): RepoStatus['trust'] {
  const trust = repositoryTrust(config);
  return { open: trust.open, trustedKeys: trust.keys.map((k) => k.fingerprint) };
}
