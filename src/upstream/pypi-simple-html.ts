/**
 * PEP 503 HTML project pages and project lists, with the PEP 592 (data-yanked), PEP 658/714
 * (data-core-metadata) and data-requires-python attributes.
 */
import { normalizeProjectName } from '../model.js';
import { escapeHtml, scanTags, type HtmlTag } from './html-scan.js';
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
} from './pypi-file.js';

const PAGE_TAGS: ReadonlySet<string> = new Set(['a', 'base', 'meta']);
const LIST_TAGS: ReadonlySet<string> = new Set(['a']);

export function parseHtmlProjectPage(body: string, pageUrl: string): PypiProjectPage {
  const anchors: HtmlTag[] = [];
  let baseHref: string | undefined;
  let apiVersion: string | undefined;
  scanTags(body, PAGE_TAGS, (tag) => {
    if (tag.name === 'a') {
      // Anchors without href are not links (pip skips them too).
      if (tag.attributes.has('href')) anchors.push(tag);
    } else if (tag.name === 'base') {
      baseHref ??= tag.attributes.get('href');
    } else if (tag.attributes.get('name') === 'pypi:repository-version') {
      apiVersion ??= tag.attributes.get('content');
    }
  });
  checkApiVersion(pageUrl, apiVersion);
  const base = baseHref === undefined ? pageUrl : resolveBase(baseHref, pageUrl);
  return {
    name: projectNameFromUrl(pageUrl),
    files: anchors.map((anchor) => fileFromAnchor(anchor, base, pageUrl)),
    meta: apiVersion === undefined ? {} : { apiVersion },
  };
}

/** Project names from a PEP 503 /simple/ page: the anchors' texts, normalized, deduplicated. */
export function parseHtmlProjectList(body: string): string[] {
  const names = new Set<string>();
  scanTags(body, LIST_TAGS, (tag) => {
    if (tag.text !== '') names.add(normalizeProjectName(tag.text));
  });
  return [...names];
}

function resolveBase(href: string, pageUrl: string): string {
  try {
    return new URL(href.trim(), pageUrl).href;
  } catch {
    throw indexError(pageUrl, `<base href=${JSON.stringify(href)}> is not a valid URL`);
  }
}

function fileFromAnchor(anchor: HtmlTag, base: string, pageUrl: string): PypiFile {
  const attributes = anchor.attributes;
  const { url, fragmentHash } = resolveFileUrl(attributes.get('href') ?? '', base, pageUrl);
  // PEP 503: the anchor text is the file name; fall back to the URL's last segment.
  const filename = anchor.text !== '' ? anchor.text : lastSegment(url);
  checkFilename(pageUrl, filename);
  const hashes: Record<string, string> = Object.fromEntries(fragmentHash ? [fragmentHash] : []);
  checkHashes(pageUrl, filename, hashes);

  const file: PypiFile = {
    filename,
    url,
    hashes,
    yanked: false,
    coreMetadata: metadataFromAttribute(
      attributes.get('data-core-metadata') ?? attributes.get('data-dist-info-metadata'),
    ),
  };
  if (hashes.sha256 !== undefined) file.sha256 = hashes.sha256;
  const requiresPython = attributes.get('data-requires-python')?.trim();
  if (requiresPython) file.requiresPython = requiresPython;
  // PEP 592: the attribute's presence means yanked; its value, if any, is the reason.
  const yanked = attributes.get('data-yanked');
  if (yanked !== undefined) file.yanked = { reason: yanked };
  return file;
}

function lastSegment(url: string): string {
  const segment = new URL(url).pathname.split('/').at(-1) ?? '';
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

// PEP 658: 'true', or '<hashname>=<hexdigest>' of the metadata file.
function metadataFromAttribute(value: string | undefined): CoreMetadata {
  if (value === undefined) return false;
  const text = value.trim();
  if (text.toLowerCase() === 'false') return false;
  const sha256 = /^sha256=([0-9a-fA-F]{64})$/.exec(text)?.[1];
  return sha256 === undefined ? {} : { sha256: sha256.toLowerCase() };
}

/** A PEP 503 page for a project, carrying every attribute pip reads. */
export function renderProjectPageHtml(page: RenderablePage): string {
  const name = escapeHtml(normalizeProjectName(page.name));
  const lines = [
    '<!DOCTYPE html>',
    '<html>',
    '  <head>',
    '    <meta name="pypi:repository-version" content="1.0">',
    `    <title>Links for ${name}</title>`,
    '  </head>',
    '  <body>',
    `    <h1>Links for ${name}</h1>`,
    ...page.files.map((file) => `    ${anchorFor(file)}<br />`),
    '  </body>',
    '</html>',
    '',
  ];
  return lines.join('\n');
}

// pip verifies any of these from the fragment; sha256 first, as PyPI publishes it.
const FRAGMENT_HASHES = ['sha256', 'sha512', 'sha384', 'sha224', 'sha1', 'md5'];

function anchorFor(file: PypiFile): string {
  const hashes: Record<string, string | undefined> = {
    ...file.hashes,
    sha256: file.sha256 ?? file.hashes.sha256,
  };
  const algorithm = FRAGMENT_HASHES.find((name) => hashes[name] !== undefined);
  const fragment = algorithm === undefined ? '' : `#${algorithm}=${hashes[algorithm]}`;
  const href = (file.url.split('#')[0] ?? '') + fragment;
  let attributes = `href="${escapeHtml(href)}"`;
  if (file.requiresPython !== undefined) {
    attributes += ` data-requires-python="${escapeHtml(file.requiresPython)}"`;
  }
  if (file.yanked !== false) attributes += ` data-yanked="${escapeHtml(file.yanked.reason)}"`;
  if (file.coreMetadata !== false) {
    const sha256 = file.coreMetadata.sha256;
    const value = sha256 === undefined ? 'true' : `sha256=${sha256}`;
    // PEP 714: data-core-metadata is the name; older pip only reads data-dist-info-metadata.
    attributes += ` data-dist-info-metadata="${value}" data-core-metadata="${value}"`;
  }
  return `<a ${attributes}>${escapeHtml(file.filename)}</a>`;
}
