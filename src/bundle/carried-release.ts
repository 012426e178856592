/**
 * An airlock release carried beside a bundle's parts (`airlock bundle --with-release FILE`):
 * the tarball `npm run release` writes, with its `.sha256` and `.sig` when they lie beside it.
 * The files stay plain files next to the parts, so a far side without airlock checks them with
 * `sha256sum` and `openssl`; the manifest lists each one's size and sha256, so the manifest's
 * signature covers them, and SHA256SUMS lists them too.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { IntegrityError, storageErrorFrom, UsageError } from '../errors.js';
import { SHA256_HEX } from '../model.js';
import { sizeIfPresent } from './size-if-present.js';

export interface CarriedFile {
  name: string;
  size: number;
  sha256: string;
}

/** The manifest's `release` field. Field order matters: docs/bundle-format.md greps it. */
export interface ManifestRelease extends CarriedFile {
  version: string;
  /** `linux-x64`, `linux-arm64`: Node.js's names for the platform the release runs on. */
  platform: string;
  /** The tarball's `.sha256` and `.sig`, when they came along. */
  extras: CarriedFile[];
}

/** What verify and import report about a carried release. */
export interface ReleaseReport {
  name: string;
  version: string;
  platform: string;
  sha256: string;
  signed: boolean;
}

/** `airlock-<version>-linux-<arch>.tar.gz`: a plain file name, never a path. */
const RELEASE_NAME = /^airlock-(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)-(linux-[a-z0-9]+)\.tar\.gz$/;
const EXTRA_SUFFIXES = ['.sha256', '.sig'] as const;

export function releaseReport(release: ManifestRelease): ReleaseReport {
  const { name, version, platform, sha256 } = release;
  const signed = release.extras.some((e) => e.name === `${name}.sig`);
  return { name, version, platform, sha256, signed };
}

/** Refuses a wrongly named or unreadable release before any part is written. */
export async function requireReleaseFile(file: string): Promise<void> {
  if (!RELEASE_NAME.test(basename(file))) {
    throw new UsageError(`--with-release ${file} is not named like an airlock release`, {
      hint: 'give the airlock-<version>-linux-<arch>.tar.gz written by `npm run release`',
    });
  }
  const info = await stat(file).catch((err: unknown) => {
    throw new UsageError(`cannot read --with-release ${file}: ${(err as Error).message}`, {
      hint: 'give the release tarball written by `npm run release -- --out DIR`',
      cause: err,
    });
  });
  if (!info.isFile()) {
    throw new UsageError(`--with-release ${file} is not a file`, {
      hint: 'give the release tarball written by `npm run release -- --out DIR`',
    });
  }
}

/**
 * Copies the release (and its `.sha256`/`.sig`) into the bundle's directory, hashing while it
 * copies. A file of that name already there is kept when its bytes are the same (another bundle
 * on the medium carries the same release) and refused when they differ.
 */
export async function carryRelease(
  file: string,
  outDir: string,
  created: string[],
): Promise<ManifestRelease> {
  const name = basename(file);
  const match = RELEASE_NAME.exec(name);
  if (!match) {
    throw new UsageError(`--with-release ${file} is not named like an airlock release`, {
      hint: 'give the airlock-<version>-linux-<arch>.tar.gz written by `npm run release`',
    });
  }
  const tarball = await copyInto(file, outDir, created, '--with-release');
  const extras: CarriedFile[] = [];
  for (const suffix of EXTRA_SUFFIXES) {
    const extra = `${file}${suffix}`;
    if (!(await exists(extra))) continue;
    if (suffix === '.sha256') await requireMatchingSumFile(extra, tarball);
    extras.push(await copyInto(extra, outDir, created, '--with-release'));
  }
  return { ...tarball, version: match[1]!, platform: match[2]!, extras };
}

/** The manifest's `release` field is well formed: names are plain release file names. */
export function releaseProblems(value: unknown): string[] {
  if (value === undefined) return [];
  if (!isObject(value)) return ['"release" is not an object'];
  const r = value as Partial<ManifestRelease>;
  const match = typeof r.name === 'string' ? RELEASE_NAME.exec(r.name) : null;
  const out: string[] = [];
  if (!match || !isCarriedFile(value)) out.push('"release" has a bad name, size or sha256');
  else if (r.version !== match[1] || r.platform !== match[2])
    out.push('"release" version or platform disagrees with its name');
  const extras: unknown = r.extras;
  const extraOk = (e: unknown): boolean =>
    isCarriedFile(e) && EXTRA_SUFFIXES.some((s) => e.name === `${String(r.name)}${s}`);
  if (!Array.isArray(extras) || !extras.every(extraOk)) out.push('"release" has bad "extras"');
  return out;
}

/**
 * Checks every carried file beside the manifest at its size and sha256. A missing or changed
 * file is refused like a damaged part: exit 4 before anything is imported.
 */
export async function checkCarriedRelease(
  dir: string,
  release: ManifestRelease,
  signal?: AbortSignal,
): Promise<void> {
  const problems: string[] = [];
  for (const file of [release, ...release.extras]) {
    const path = join(dir, file.name);
    const size = await sizeIfPresent(path);
    if (size === undefined) {
      problems.push(`the carried release file ${file.name} is missing`);
      continue;
    }
    if (size !== file.size || (await sha256OfFile(path, signal)) !== file.sha256) {
      problems.push(
        `the carried release file ${file.name} does not match the manifest (size or sha256)`,
      );
    }
  }
  if (problems.length > 0) {
    throw new IntegrityError(`${problems.join('; ')} (in ${dir})`, {
      code: 'ERELEASE',
      hint: 'copy the release files named above again from the source media, then run again; never use a release that fails this check',
    });
  }
}

async function copyInto(
  from: string,
  outDir: string,
  created: string[],
  option: string,
): Promise<CarriedFile> {
  const name = basename(from);
  const target = join(outDir, name);
  if (resolve(from) === resolve(target)) {
    return { name, size: (await stat(from)).size, sha256: await sha256OfFile(from) };
  }
  const temp = `${target}.${process.pid}.tmp`;
  let copied: CarriedFile;
  try {
    copied = await copyHashing(from, temp, option);
    if (await exists(target)) {
      const there = await sha256OfFile(target);
      if (there !== copied.sha256) {
        throw new UsageError(`${target} already exists with other bytes than ${from}`, {
          hint: 'an earlier bundle in this directory carries another build of the same version: use another --out directory',
        });
      }
      await unlink(temp);
      return copied;
    }
    await rename(temp, target);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  created.push(target);
  return copied;
}

async function copyHashing(from: string, to: string, option: string): Promise<CarriedFile> {
  const hash = createHash('sha256');
  let size = 0;
  const out = await open(to, 'wx').catch((err: unknown) => {
    throw storageErrorFrom(err, 'create', to);
  });
  try {
    const input = createReadStream(from, { highWaterMark: 1 << 20 });
    try {
      for await (const chunk of input) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
        await out.write(chunk as Buffer);
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES') {
        throw new UsageError(`cannot read ${option} ${from}: ${(err as Error).message}`, {
          hint: 'give the release tarball written by `npm run release -- --out DIR`',
          cause: err,
        });
      }
      throw storageErrorFrom(err, 'write', to);
    }
    await out.sync();
  } finally {
    await out.close();
  }
  return { name: basename(from), size, sha256: hash.digest('hex') };
}

/** A stale `.sha256` beside a rebuilt tarball would make the far side's first check fail. */
async function requireMatchingSumFile(path: string, tarball: CarriedFile): Promise<void> {
  const text = await readFile(path, 'utf8');
  const [sum, name] = text.trim().split(/\s+\*?/);
  if (sum !== tarball.sha256 || name !== tarball.name) {
    throw new UsageError(`${path} does not describe ${tarball.name} (sha256 ${tarball.sha256})`, {
      hint: 'the .sha256 beside the release is stale: run `npm run release` again, or remove it',
    });
  }
}

async function sha256OfFile(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path, {
      highWaterMark: 1 << 20,
      ...(signal ? { signal } : {}),
    })) {
      hash.update(chunk as Buffer);
    }
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw storageErrorFrom(err, 'read', path);
  }
  return hash.digest('hex');
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function isCarriedFile(v: unknown): v is CarriedFile {
  return (
    isObject(v) &&
    typeof v.name === 'string' &&
    typeof v.size === 'number' &&
    Number.isSafeInteger(v.size) &&
    v.size >= 0 &&
    typeof v.sha256 === 'string' &&
    SHA256_HEX.test(v.sha256)
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
