/**
 * PEP 691 JSON project pages and project lists, with PEP 592 (yanked), PEP 658/714
 * (core-metadata) and PEP 700 (versions, size, upload-time).
 */
import { normalizeProjectName } from '../model.js';
import { classifyFilename } from './dist-filename.js';
import {
  checkApiVersion,
  checkFilename,
  checkHashes,
  indexError,
  projectNameFromUrl,
  resolveFileUrl,
  type CoreMetadata,
  type PypiFile,
  type PypiProjectPage,
  type RenderablePage,
  type Yanked,
} from './pypi-file.js';

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseDocument(body: string, pageUrl: string): JsonObject {
  let document: unknown;
  try {
    document = JSON.parse(body);
  } catch (err) {
    throw indexError(pageUrl, `the JSON page does not parse (${(err as Error).message})`);
  }
  if (!isObject(document)) throw indexError(pageUrl, 'the JSON page is not an object');
  const meta = document.meta;
  const apiVersion = isObject(meta) ? meta['api-version'] : undefined;
  if (apiVersion !== undefined && typeof apiVersion !== 'string') {
    throw indexError(pageUrl, 'meta.api-version is not a string');
  }
  checkApiVersion(pageUrl, apiVersion);
  return document;
}

export function parseJsonProjectPage(body: string, pageUrl: string): PypiProjectPage {
  const document = parseDocument(body, pageUrl);
  const { name, files, versions } = document;
  if (name !== undefined && typeof name !== 'string')
    throw indexError(pageUrl, '"name" is not a string');
  if (!Array.isArray(files)) throw indexError(pageUrl, 'the JSON page has no "files" array');
  const page: PypiProjectPage = {
    name: name === undefined ? projectNameFromUrl(pageUrl) : normalizeProjectName(name),
    files: files.map((file, index) => fileFromJson(file, index, pageUrl)),
    meta: {},
  };
  const apiVersion = (document.meta as JsonObject | undefined)?.['api-version'];
  if (typeof apiVersion === 'string') page.meta.apiVersion = apiVersion;
  if (Array.isArray(versions) && versions.every((v) => typeof v === 'string'))
    page.versions = versions;
  return page;
}

export function parseJsonProjectList(body: string, pageUrl: string): string[] {
  const { projects } = parseDocument(body, pageUrl);
  if (!Array.isArray(projects)) throw indexError(pageUrl, 'the JSON page has no "projects" array');
  const names = new Set<string>();
  projects.forEach((project: unknown, index) => {
    const name = isObject(project) ? project.name : undefined;
    if (typeof name !== 'string')
      throw indexError(pageUrl, `projects[${index}] has no "name" string`);
    names.add(normalizeProjectName(name));
  });
  return [...names];
}

function fileFromJson(raw: unknown, index: number, pageUrl: string): PypiFile {
  if (!isObject(raw)) throw indexError(pageUrl, `files[${index}] is not an object`);
  const { filename, url: href } = raw;
  if (typeof filename !== 'string')
    throw indexError(pageUrl, `files[${index}] has no "filename" string`);
  const where = `files[${index}] (${filename.slice(0, 200)})`;
  const fail = (problem: string) => indexError(pageUrl, `${where}: ${problem}`);
  if (typeof href !== 'string') throw fail('no "url" string');
  checkFilename(pageUrl, filename);

  const { url, fragmentHash } = resolveFileUrl(href, pageUrl, pageUrl);
  const hashes = readHashes(raw.hashes, fail, '"hashes"');
  if (fragmentHash && hashes[fragmentHash[0]] === undefined)
    hashes[fragmentHash[0]] = fragmentHash[1];
  checkHashes(pageUrl, filename, hashes);

  // PEP 714: 'core-metadata' is the name; 'dist-info-metadata' is PEP 691's original and
  // 'data-dist-info-metadata' the key PyPI emitted by mistake in 2023.
  const metadata =
    raw['core-metadata'] ?? raw['dist-info-metadata'] ?? raw['data-dist-info-metadata'];
  const file: PypiFile = {
    filename,
    url,
    hashes,
    yanked: readYanked(raw.yanked, fail),
    coreMetadata: readMetadata(metadata, fail),
  };
  if (hashes.sha256 !== undefined) file.sha256 = hashes.sha256;
  const requiresPython = optional(raw['requires-python'], 'string', fail, '"requires-python"');
  if (requiresPython !== undefined && requiresPython.trim() !== '')
    file.requiresPython = requiresPython.trim();
  const size = optional(raw.size, 'number', fail, '"size"');
  if (size !== undefined) {
    if (!Number.isSafeInteger(size) || size < 0) throw fail(`"size" ${size} is not a byte count`);
    file.size = size;
  }
  const uploadTime = optional(raw['upload-time'], 'string', fail, '"upload-time"');
  if (uploadTime !== undefined) file.uploadTime = uploadTime;
  return file;
}

type Fail = (problem: string) => Error;

function optional<T extends 'string' | 'number'>(
  value: unknown,
  type: T,
  fail: Fail,
  what: string,
): (T extends 'string' ? string : number) | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== type) throw fail(`${what} is not a ${type}`);
  return value as T extends 'string' ? string : number;
}

function readHashes(value: unknown, fail: Fail, what: string): Record<string, string> {
  if (!isObject(value)) throw fail(`${what} is not an object`);
  const entries = Object.entries(value).map(([algorithm, digest]) => {
    if (typeof digest !== 'string') throw fail(`${what}.${algorithm} is not a string`);
    return [algorithm.toLowerCase(), digest.toLowerCase()] as const;
  });
  // fromEntries defines keys as own data properties, so a '__proto__' key stays harmless.
  return Object.fromEntries(entries);
}

// pip treats '' like false (Link.from_json); any other string is the reason.
function readYanked(value: unknown, fail: Fail): Yanked {
  if (value === undefined || value === null || value === false || value === '') return false;
  if (value === true) return { reason: '' };
  if (typeof value === 'string') return { reason: value };
  throw fail('"yanked" is neither a boolean nor a string');
}

function readMetadata(value: unknown, fail: Fail): CoreMetadata {
  if (value === undefined || value === null || value === false) return false;
  if (value === true) return {};
  const hashes = readHashes(value, fail, '"core-metadata"');
  const sha256 = hashes.sha256;
  if (sha256 === undefined) return {};
  if (!/^[0-9a-f]{64}$/.test(sha256))
    throw fail(`core-metadata sha256 ${JSON.stringify(sha256)} is not hex`);
  return { sha256 };
}

/**
 * A PEP 691 page. api-version 1.1 (PEP 700) when every file has a size, with `versions`
 * taken from the files rendered (a filtered page lists only what it carries).
 */
export function renderProjectPageJson(page: RenderablePage): string {
  const name = normalizeProjectName(page.name);
  const complete = page.files.length > 0 && page.files.every((file) => file.size !== undefined);
  const document: JsonObject = { meta: { 'api-version': complete ? '1.1' : '1.0' }, name };
  if (complete) document.versions = versionsOf(page.files, name);
  document.files = page.files.map(fileToJson);
  return JSON.stringify(document);
}

function fileToJson(file: PypiFile): JsonObject {
  const hashes: Record<string, string> = { ...file.hashes };
  if (file.sha256 !== undefined) hashes.sha256 = file.sha256;
  const sorted = Object.fromEntries(Object.entries(hashes).sort(([a], [b]) => (a < b ? -1 : 1)));
  const json: JsonObject = { filename: file.filename, url: file.url.split('#')[0], hashes: sorted };
  if (file.requiresPython !== undefined) json['requires-python'] = file.requiresPython;
  json.yanked =
    file.yanked === false ? false : file.yanked.reason === '' ? true : file.yanked.reason;
  if (file.size !== undefined) json.size = file.size;
  if (file.uploadTime !== undefined) json['upload-time'] = file.uploadTime;
  // Only 'core-metadata': pip 22.3–23.1 crash on a JSON 'dist-info-metadata' (PEP 714).
  if (file.coreMetadata !== false) {
    const sha256 = file.coreMetadata.sha256;
    json['core-metadata'] = sha256 === undefined ? true : { sha256 };
  }
  return json;
}

function versionsOf(files: readonly PypiFile[], project: string): string[] {
  const versions = new Set<string>();
  for (const file of files) {
    const parsed = classifyFilename(file.filename, project);
    if (parsed.kind !== 'other') versions.add(parsed.version);
  }
  return [...versions];
}
