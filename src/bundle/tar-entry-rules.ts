/**
 * What a bundle's tar may contain, and the words for what it must not. A bundle holds regular
 * files named `index.ndjson` and `blobs/<sha256>` only; anything else (links, devices,
 * directories, other names) is refused before a byte of it reaches a consumer.
 */
import { IntegrityError } from '../errors.js';
import type { DecodedHeader } from './tar-header.js';

export const BLOB_ENTRY = /^blobs\/([0-9a-f]{64})$/;

const TYPE_NAMES: Record<string, string> = {
  '1': 'a hard link',
  '2': 'a symbolic link',
  '3': 'a character device',
  '4': 'a block device',
  '5': 'a directory',
  '6': 'a FIFO',
  '7': 'a contiguous file',
  g: 'a global pax header',
  L: 'a GNU long-name header',
  K: 'a GNU long-link header',
};

/** Pax keys a bundle may use: the size of a large entry, and harmless path/mtime copies. */
export const ALLOWED_PAX_KEYS = new Set(['size', 'path', 'mtime']);

export function unsafe(what: string, offset: number): IntegrityError {
  return new IntegrityError(`unsafe bundle: ${what} (at byte ${offset} of the tar stream)`, {
    code: 'EUNSAFE',
    hint: 'this bundle was not made by airlock or was altered before its manifest was written: do not import it; ask for a new bundle',
  });
}

/** Refuses a header that is not a plain ustar regular file with a safe name. */
export function checkEntryHeader(h: DecodedHeader, name: string, offset: number): void {
  if (h.magic !== 'ustar\u000000')
    throw unsafe(`entry ${JSON.stringify(name)} has no POSIX ustar header`, offset);
  if (h.typeflag !== '0') {
    const kind = TYPE_NAMES[h.typeflag] ?? `an entry of type ${JSON.stringify(h.typeflag)}`;
    const target = h.linkname ? ` pointing to ${JSON.stringify(h.linkname)}` : '';
    throw unsafe(
      `entry ${JSON.stringify(name)} is ${kind}${target}; a bundle holds regular files only`,
      offset,
    );
  }
  if (name.startsWith('/'))
    throw unsafe(`entry ${JSON.stringify(name)} has an absolute path`, offset);
  if (name.split('/').includes('..'))
    throw unsafe(`entry ${JSON.stringify(name)} has a '..' path segment`, offset);
}
