/**
 * The values a PyPI simple-API project page is parsed into, whichever format (PEP 503 HTML or
 * PEP 691 JSON) it came in, and the checks both parsers share.
 */
import { IntegrityError } from '../errors.js';
import { normalizeProjectName } from '../model.js';

/** PEP 592: false, or yanked with a reason ('' when the upstream gave none). */
export type Yanked = false | { reason: string };

/** PEP 658/714: false, or a `.metadata` file exists beside the distribution. */
export type CoreMetadata = false | { sha256?: string };

export interface PypiFile {
  filename: string;
  /** Absolute (after parsing: resolved against the page or its <base href>), no fragment. */
  url: string;
  /** Lowercase hex, the same as hashes.sha256. */
  sha256?: string;
  /** Algorithm (lowercase) → lowercase hex digest. */
  hashes: Record<string, string>;
  requiresPython?: string;
  yanked: Yanked;
  /** PEP 700 (JSON only). */
  size?: number;
  /** PEP 700 (JSON only): ISO 8601 as the upstream wrote it. */
  uploadTime?: string;
  coreMetadata: CoreMetadata;
}

export interface PypiProjectPage {
  /** Normalized (PEP 503). */
  name: string;
  files: PypiFile[];
  /** PEP 700 `versions`, when the upstream sent them (JSON 1.1). */
  versions?: string[];
  meta: { apiVersion?: string };
}

/** What a renderer needs: files whose `url` the caller has already decided. */
export interface RenderablePage {
  name: string;
  files: readonly PypiFile[];
}

export function indexError(pageUrl: string, problem: string): IntegrityError {
  return new IntegrityError(`${pageUrl}: ${problem}`, {
    code: 'EINDEX',
    hint:
      'the upstream did not serve a valid PEP 503/691 simple index page: check that the source ' +
      'URL points at a simple index (…/simple) and not a login or error page, then run again',
  });
}

/** PEP 629: a page with a newer major API version must not be guessed at. */
export function checkApiVersion(pageUrl: string, version: string | undefined): void {
  if (version === undefined) return;
  const major = /^(\d+)\.\d+$/.exec(version.trim())?.[1];
  if (major === undefined)
    throw indexError(pageUrl, `unreadable api-version ${JSON.stringify(version)}`);
  if (major !== '1')
    throw indexError(pageUrl, `api-version ${version} is not supported (only 1.x is)`);
}

/**
 * Resolves a file link against the page (or its <base href>) and splits off the fragment,
 * whose `#alg=hex` is a hash (PEP 503). Throws EINDEX for a link that is not a URL.
 */
export function resolveFileUrl(
  href: string,
  base: string,
  pageUrl: string,
): { url: string; fragmentHash?: [string, string] } {
  let url: URL;
  try {
    url = new URL(href.trim(), base);
  } catch {
    throw indexError(pageUrl, `link ${JSON.stringify(href.slice(0, 200))} is not a valid URL`);
  }
  const fragment = /^#([A-Za-z0-9_-]+)=([0-9A-Fa-f]+)$/.exec(url.hash);
  url.hash = '';
  const result: { url: string; fragmentHash?: [string, string] } = { url: url.href };
  if (fragment)
    result.fragmentHash = [
      (fragment[1] as string).toLowerCase(),
      (fragment[2] as string).toLowerCase(),
    ];
  return result;
}

/**
 * A file name becomes a storage path ('{project}/{filename}'), so it must be one plain path
 * segment: an upstream naming a file '../x' must not write outside its project.
 */
export function checkFilename(pageUrl: string, filename: string): void {
  if (
    filename === '' ||
    filename === '.' ||
    filename === '..' ||
    /[/\\\u0000-\u001f\u007f]/.test(filename)
  ) {
    throw indexError(
      pageUrl,
      `file name ${JSON.stringify(filename.slice(0, 200))} is not a plain file name`,
    );
  }
}

/** Checks (already lowercased) digests are hex; a sha256 must be 64 hex digits. */
export function checkHashes(
  pageUrl: string,
  filename: string,
  hashes: Record<string, string>,
): void {
  for (const [algorithm, value] of Object.entries(hashes)) {
    const ok = algorithm === 'sha256' ? /^[0-9a-f]{64}$/.test(value) : /^[0-9a-f]+$/.test(value);
    if (!ok)
      throw indexError(
        pageUrl,
        `${filename}: ${algorithm} digest ${JSON.stringify(value)} is not hex`,
      );
  }
}

/** The last path segment of the page URL, normalized: '/simple/Foo_Bar/' → 'foo-bar'. */
export function projectNameFromUrl(pageUrl: string): string {
  let segments: string[];
  try {
    segments = new URL(pageUrl).pathname.split('/').filter((s) => s !== '');
  } catch {
    return '';
  }
  const last = segments.at(-1) ?? '';
  try {
    return normalizeProjectName(decodeURIComponent(last));
  } catch {
    return normalizeProjectName(last);
  }
}
