/**
 * Validation and canonical form of one snapshot entry. The same entry always serializes to
 * the same bytes (fixed key order), which keeps snapshot documents content-addressed: the
 * same snapshot imported twice, or re-imported after a crash, lands at the same key.
 */
import type { EntryRole, Provenance, SnapshotEntry, Variant } from '../model.js';
import { SHA256_HEX } from '../model.js';
import type { Fields, Json } from './document-json.js';
import { isObject } from './document-json.js';

const ROLES: readonly string[] = ['index', 'package', 'metadata'];
const VARIANT = /^(|R-\d+\.\d+)$/;

/** A relative '/'-separated path that cannot climb out of its snapshot or hide a NUL. */
export function isSafeEntryPath(path: string): boolean {
  if (path === '' || path.startsWith('/') || path.includes('\\') || path.includes('\0'))
    return false;
  const segments = path.split('/');
  // A PyPI project page is '{project}/': a trailing empty segment is allowed, no other.
  return segments.every(
    (s, i) => (s !== '' || i === segments.length - 1) && s !== '.' && s !== '..',
  );
}

export function parseEntry(f: Fields, obj: Json): SnapshotEntry {
  const path = f.string(obj, 'path');
  if (!isSafeEntryPath(path))
    f.fail(`entry path ${JSON.stringify(path)} is not a safe relative path`);
  const variant = f.string(obj, 'variant', VARIANT) as Variant;
  const role = f.string(obj, 'role');
  if (!ROLES.includes(role)) f.fail(`entry ${path}: unknown role "${role}"`);
  const pkg = f.optionalString(obj, 'package');
  const version = f.optionalString(obj, 'version');
  return {
    path,
    variant,
    role: role as EntryRole,
    sha256: f.string(obj, 'sha256', SHA256_HEX),
    size: f.count(obj, 'size'),
    ...(pkg === undefined ? {} : { package: pkg }),
    ...(version === undefined ? {} : { version }),
    provenance: parseProvenance(f, f.object(obj, 'provenance')),
  };
}

function parseProvenance(f: Fields, obj: Json): Provenance {
  const url = f.optionalString(obj, 'url');
  const provenance: Provenance = { fetchedAt: f.string(obj, 'fetchedAt') };
  if (url !== undefined) provenance.url = url;
  if (obj.upstreamHash !== undefined) {
    const hash = isObject(obj.upstreamHash) ? obj.upstreamHash : f.fail('bad upstreamHash');
    const algorithm = f.string(hash, 'algorithm');
    if (algorithm !== 'sha256' && algorithm !== 'md5') f.fail(`unknown hash "${algorithm}"`);
    provenance.upstreamHash = { algorithm, value: f.string(hash, 'value', /^[0-9a-f]+$/) };
  }
  if (obj.generated !== undefined) provenance.generated = f.boolean(obj, 'generated');
  return provenance;
}

/** The entry as one document line (without newline), keys in a fixed order. */
export function entryLine(entry: SnapshotEntry): string {
  const p = entry.provenance;
  return JSON.stringify({
    type: 'entry',
    path: entry.path,
    variant: entry.variant,
    role: entry.role,
    sha256: entry.sha256,
    size: entry.size,
    package: entry.package,
    version: entry.version,
    provenance: {
      url: p.url,
      upstreamHash: p.upstreamHash && {
        algorithm: p.upstreamHash.algorithm,
        value: p.upstreamHash.value,
      },
      fetchedAt: p.fetchedAt,
      generated: p.generated,
    },
  });
}
