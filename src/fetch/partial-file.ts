/**
 * Partial downloads in the workspace's tmp/: `<key>.part` (the bytes so far) and `<key>.json`
 * (what is needed to resume them safely). The key hashes the URL and request headers, so the
 * same request finds its partial in the next process.
 *
 * Crash safety: a process killed with SIGKILL loses nothing the kernel accepted, so the .part
 * holds every byte whose write() returned, in order; it is never fsynced (only an OS crash
 * could leave garbage, and the hash check after resume would reject that). The .json is
 * written before the first body byte; a torn .json does not parse and the partial restarts.
 * Nothing here is ever taken as good: a partial is re-hashed from disk and the whole file is
 * verified before it enters blobs/.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { storageErrorFrom } from '../errors.js';

export interface PartialMeta {
  url: string;
  etag?: string;
  lastModified?: string;
  /** Full size of the file, when the server announced it. */
  size?: number;
}

export interface PartialPaths {
  part: string;
  meta: string;
}

/** What the workspace knows of tmp/ (BlobStore): lets a fresh download skip probing for leftovers. */
export interface TempNames {
  mayHaveTemp(path: string): boolean;
  noteTemp(path: string): void;
  removeTemp(path: string): Promise<void>;
}

export interface Partial {
  meta: PartialMeta;
  bytes: number;
  sha256: Hash;
  md5: Hash | undefined;
}

export function partialPaths(
  tmpDir: string,
  url: string,
  headers: Record<string, string> = {},
): PartialPaths {
  const sorted = Object.entries(headers)
    .map(([name, value]) => [name.toLowerCase(), value])
    .sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0));
  const key = createHash('sha256')
    .update(`${url}\n${JSON.stringify(sorted)}`)
    .digest('hex');
  return { part: join(tmpDir, `${key}.part`), meta: join(tmpDir, `${key}.json`) };
}

/**
 * The partial left by an earlier attempt or process, with its bytes hashed from disk (local
 * I/O, never the network again), or undefined when there is nothing usable to resume.
 */
export async function readPartial(
  paths: PartialPaths,
  withMd5: boolean,
  temps: TempNames,
): Promise<Partial | undefined> {
  if (!temps.mayHaveTemp(paths.meta)) return undefined;
  const meta = await readMeta(paths.meta);
  if (meta === undefined) return undefined;
  let bytes: number;
  try {
    bytes = (await stat(paths.part)).size;
  } catch {
    return undefined;
  }
  if (bytes === 0 || (meta.size !== undefined && bytes > meta.size)) return undefined;
  const sha256 = createHash('sha256');
  const md5 = withMd5 ? createHash('md5') : undefined;
  let hashed = 0;
  try {
    for await (const chunk of createReadStream(paths.part, { highWaterMark: 1 << 20 })) {
      sha256.update(chunk as Buffer);
      md5?.update(chunk as Buffer);
      hashed += (chunk as Buffer).length;
    }
  } catch (error) {
    throw storageErrorFrom(error, 'read partial download', paths.part);
  }
  return { meta, bytes: hashed, sha256, md5 };
}

async function readMeta(path: string): Promise<PartialMeta | undefined> {
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as Partial['meta'];
    return typeof value?.url === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

export async function writeMeta(
  paths: PartialPaths,
  meta: PartialMeta,
  temps: TempNames,
): Promise<void> {
  temps.noteTemp(paths.meta);
  try {
    await writeFile(paths.meta, JSON.stringify(meta));
  } catch (error) {
    throw storageErrorFrom(error, 'write', paths.meta);
  }
}

/** Removes both files; the meta first, so a kill in between never leaves a resumable lie. */
export async function discardPartial(paths: PartialPaths, temps: TempNames): Promise<void> {
  await temps.removeTemp(paths.meta);
  await temps.removeTemp(paths.part);
}

/**
 * What makes a Range request safe: If-Range needs a strong validator (RFC 9110 §13.1.5), so
 * a weak ETag falls back to Last-Modified, and without either the file starts over.
 */
export function resumeValidator(meta: PartialMeta): string | undefined {
  if (meta.etag !== undefined && !meta.etag.startsWith('W/')) return meta.etag;
  return meta.lastModified;
}
