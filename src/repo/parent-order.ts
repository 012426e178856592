/**
 * For the "parent never imported" refusal: which bundles to import, in which order. The
 * operator usually carries a chain of deltas on one disk, so the manifests beside the refused
 * one tell the chain back to a bundle this repository already has (or to a full bundle).
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { IntegrityError } from '../errors.js';
import { hasBundleRecord } from './bundle-record.js';
import type { Storage } from './storage.js';

interface Link {
  id: string;
  parent: string | null;
  file: string;
}

export async function missingParentError(
  storage: Storage,
  manifestPath: string,
  bundleId: string,
  parent: string,
): Promise<IntegrityError> {
  const order = await importOrder(storage, manifestPath, parent);
  const known = order.length > 0 && order.every((l) => l !== undefined);
  const hint = known
    ? `import in this order: ${[...order.map((l) => l.file), manifestPath].join(', then ')}`
    : `import bundle ${parent} (and any bundles it depends on) first, then this one`;
  return new IntegrityError(
    `bundle ${bundleId} is a delta of bundle ${parent}, which was never imported into ${storage.location}`,
    { code: 'EPARENT', hint },
  );
}

/** The chain of missing ancestors, oldest first, as far as the manifests beside this one tell. */
async function importOrder(
  storage: Storage,
  manifestPath: string,
  parent: string,
): Promise<Link[]> {
  const neighbours = await manifestsBeside(manifestPath);
  const chain: Link[] = [];
  let next: string | null = parent;
  while (next !== null && !(await hasBundleRecord(storage, next))) {
    const link = neighbours.get(next);
    if (!link || chain.some((l) => l.id === link.id)) return [];
    chain.unshift(link);
    next = link.parent;
  }
  return chain;
}

async function manifestsBeside(manifestPath: string): Promise<Map<string, Link>> {
  const dir = dirname(manifestPath);
  const links = new Map<string, Link>();
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return links;
  }
  for (const name of names.filter((n) => n.endsWith('.manifest.json'))) {
    try {
      const file = join(dir, name);
      const value = JSON.parse(await readFile(file, 'utf8')) as { id?: unknown; parent?: unknown };
      if (typeof value.id !== 'string') continue;
      const parent = typeof value.parent === 'string' ? value.parent : null;
      links.set(value.id, { id: value.id, parent, file });
    } catch {
      // Not a manifest we can read: it just cannot help with the hint.
    }
  }
  return links;
}
