/**
 * A PyPI project page as served: the stored PEP 691 JSON page, restricted to the files this
 * snapshot holds, with hashes and sizes taken from the snapshot entries (the bytes we serve),
 * PEP 658/714 metadata announced exactly when the `.metadata` file was mirrored, and file URLs
 * relative to the page, so they resolve to this server whatever host name clients use.
 */
import { escapeHtml } from './html.js';

export const PYPI_JSON = 'application/vnd.pypi.simple.v1+json';
export const PYPI_HTML = 'application/vnd.pypi.simple.v1+html';

export interface ServedDistribution {
  filename: string;
  sha256: string;
  size: number;
  requiresPython?: string;
  /** false, or the reason (possibly '') when the file is yanked (PEP 592). */
  yanked: false | string;
  /** sha256 of the PEP 658 `.metadata` file, when it was mirrored. */
  metadataSha256?: string;
}

export interface ServedProjectPage {
  name: string;
  files: ServedDistribution[];
  versions?: string[];
}

interface StoredFile {
  filename?: unknown;
  url?: unknown;
  'requires-python'?: unknown;
  yanked?: unknown;
}

/** What the stored page says about each file, keyed by file name (the snapshot decides the rest). */
export function readStoredPage(bytes: Buffer): { name?: string; versions?: string[]; files: Map<string, StoredFile> } {
  const page = JSON.parse(bytes.toString('utf8')) as { name?: unknown; versions?: unknown; files?: unknown };
  const files = new Map<string, StoredFile>();
  for (const file of Array.isArray(page.files) ? (page.files as StoredFile[]) : []) {
    const name = typeof file.filename === 'string' ? file.filename : typeof file.url === 'string' ? file.url : '';
    if (name) files.set(name.split('#')[0]!.split('/').pop()!, file);
  }
  return {
    name: typeof page.name === 'string' ? page.name : undefined,
    versions: Array.isArray(page.versions) ? page.versions.map(String) : undefined,
    files,
  };
}

export function storedYanked(file: StoredFile): false | string {
  if (file.yanked === true) return '';
  return typeof file.yanked === 'string' ? file.yanked : false;
}

export function storedRequiresPython(file: StoredFile): string | undefined {
  return typeof file['requires-python'] === 'string' && file['requires-python'] !== ''
    ? file['requires-python']
    : undefined;
}

/** PEP 691 JSON (api-version 1.1: sizes are always known here). */
export function renderProjectJson(page: ServedProjectPage): string {
  const files = page.files.map((file) => {
    const metadata = file.metadataSha256 ? { sha256: file.metadataSha256 } : false;
    return {
      filename: file.filename,
      url: encodeURIComponent(file.filename),
      hashes: { sha256: file.sha256 },
      'requires-python': file.requiresPython ?? null,
      yanked: file.yanked === false ? false : file.yanked || true,
      size: file.size,
      'core-metadata': metadata,
      'dist-info-metadata': metadata,
    };
  });
  const versions = page.versions ?? versionsOf(page.files);
  return `${JSON.stringify({ meta: { 'api-version': '1.1' }, name: page.name, versions, files })}\n`;
}

/** Versions named by the file names (PEP 700), for stored pages that did not list them. */
function versionsOf(files: readonly ServedDistribution[]): string[] {
  const versions = new Set<string>();
  for (const { filename } of files) {
    // Wheel names are escaped so '-' only separates fields; sdists end '-{version}.{ext}'.
    const version = filename.endsWith('.whl')
      ? filename.split('-')[1]
      : /-([^-]+)\.(?:tar\.gz|zip|tar\.bz2|tgz)$/.exec(filename)?.[1];
    if (version) versions.add(version);
  }
  return [...versions];
}

/** PEP 503 HTML with the PEP 592, 658 and 714 attributes. */
export function renderProjectHtml(page: ServedProjectPage): string {
  const links = page.files.map((file) => {
    const attributes = [`href="${escapeHtml(`${encodeURIComponent(file.filename)}#sha256=${file.sha256}`)}"`];
    if (file.requiresPython) attributes.push(`data-requires-python="${escapeHtml(file.requiresPython)}"`);
    if (file.yanked !== false) attributes.push(`data-yanked="${escapeHtml(file.yanked)}"`);
    if (file.metadataSha256) {
      // PEP 714 renamed the attribute; older pip reads only the PEP 658 name, so send both.
      attributes.push(`data-dist-info-metadata="sha256=${file.metadataSha256}"`);
      attributes.push(`data-core-metadata="sha256=${file.metadataSha256}"`);
    }
    return `    <a ${attributes.join(' ')}>${escapeHtml(file.filename)}</a><br />`;
  });
  return htmlDocument(`Links for ${page.name}`, links);
}

export function renderProjectListJson(projects: readonly string[]): string {
  return `${JSON.stringify({ meta: { 'api-version': '1.1' }, projects: projects.map((name) => ({ name })) })}\n`;
}

export function renderProjectListHtml(projects: readonly string[]): string {
  const links = projects.map((name) => `    <a href="${escapeHtml(encodeURIComponent(name))}/">${escapeHtml(name)}</a><br />`);
  return htmlDocument('Simple index', links);
}

function htmlDocument(title: string, lines: string[]): string {
  return [
    '<!DOCTYPE html>',
    '<html>',
    '  <head>',
    '    <meta name="pypi:repository-version" content="1.1">',
    `    <title>${escapeHtml(title)}</title>`,
    '  </head>',
    '  <body>',
    `    <h1>${escapeHtml(title)}</h1>`,
    ...lines,
    '  </body>',
    '</html>',
    '',
  ].join('\n');
}
