/**
 * A snapshot document loaded for serving: its descriptor and a compact map from path to the
 * variants stored there. Provenance is dropped on load: the server never needs it, and a
 * large snapshot's entries must fit comfortably in memory.
 */
import type { EntryRole, SnapshotDescriptor, Variant } from '../model.js';
import { openSnapshotDocument } from '../repo/snapshot-document.js';
import type { Storage } from '../repo/storage.js';

export interface ServedFile {
  variant: Variant;
  role: EntryRole;
  sha256: string;
  size: number;
}

export interface SnapshotIndex {
  /** The document's sha256 (its name): the cache key, immutable. */
  document: string;
  descriptor: SnapshotDescriptor;
  files: Map<string, ServedFile[]>;
  /** PyPI: normalized project names that have a project page ('{project}/'), sorted. */
  projects: string[];
}

/** The file stored at `path` for `variant`, if any. */
export function findFile(
  index: SnapshotIndex,
  path: string,
  variant: Variant,
): ServedFile | undefined {
  return index.files.get(path)?.find((file) => file.variant === variant);
}

/**
 * Reads snapshots/<sha256>.ndjson through the repository's reader, which checks the bytes
 * against the name and the entry counts against the header: a damaged document is an error,
 * never a silently smaller snapshot.
 */
export async function loadSnapshotIndex(
  storage: Storage,
  document: string,
): Promise<SnapshotIndex> {
  const opened = await openSnapshotDocument(storage, document);
  const files = new Map<string, ServedFile[]>();
  const projects: string[] = [];
  for await (const entry of opened.entries) {
    const file: ServedFile = {
      variant: entry.variant,
      role: entry.role,
      sha256: entry.sha256,
      size: entry.size,
    };
    const existing = files.get(entry.path);
    if (existing) existing.push(file);
    else files.set(entry.path, [file]);
    if (entry.role === 'index' && /^[^/]+\/$/.test(entry.path))
      projects.push(entry.path.slice(0, -1));
  }
  projects.sort();
  return { document, descriptor: opened.header.descriptor, files, projects };
}
