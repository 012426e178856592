/**
 * The PyPI simple repository API: PEP 503 (HTML), PEP 691 (JSON), PEP 592 (yanked),
 * PEP 658/714 (core metadata), PEP 700 (versions, size, upload-time). This module picks the
 * format of a response and is the one place callers import from.
 */
import { mediaTypeOf, negotiate } from './content-type.js';
import { indexError, type PypiProjectPage } from './pypi-file.js';
import { parseHtmlProjectList, parseHtmlProjectPage } from './pypi-simple-html.js';
import { parseJsonProjectList, parseJsonProjectPage } from './pypi-simple-json.js';

export type {
  CoreMetadata,
  PypiFile,
  PypiProjectPage,
  RenderablePage,
  Yanked,
} from './pypi-file.js';
export { renderProjectPageHtml } from './pypi-simple-html.js';
export { renderProjectPageJson } from './pypi-simple-json.js';
export { classifyFilename, type DistFilename, type WheelTags } from './dist-filename.js';

export const PYPI_JSON = 'application/vnd.pypi.simple.v1+json';
export const PYPI_HTML_V1 = 'application/vnd.pypi.simple.v1+html';
/** The Accept header to send upstream: JSON preferred, HTML (versioned, then legacy) after. */
export const SIMPLE_ACCEPT = `${PYPI_JSON}, ${PYPI_HTML_V1};q=0.2, text/html;q=0.01`;

export type SimpleFormat = 'json' | 'html';

// 'latest' is PEP 691's alias for the newest version the server speaks, which is v1.
const VERSIONED = /^application\/vnd\.pypi\.simple\.(v\d+|latest)\+(json|html)$/;

/**
 * Which parser a response needs, from its Content-Type; an unknown or missing type is
 * sniffed (a JSON page starts with '{'). A simple API version other than v1 is refused.
 */
export function simpleFormatOf(
  contentType: string | undefined,
  body: string,
  pageUrl: string,
): SimpleFormat {
  const type = mediaTypeOf(contentType);
  const versioned = VERSIONED.exec(type);
  if (versioned) {
    if (versioned[1] !== 'v1' && versioned[1] !== 'latest') {
      throw indexError(pageUrl, `the upstream answered with ${type}, an unsupported API version`);
    }
    return versioned[2] === 'json' ? 'json' : 'html';
  }
  if (type === 'application/json') return 'json';
  if (type === 'text/html' || type === 'application/xhtml+xml') return 'html';
  return body.trimStart().startsWith('{') ? 'json' : 'html';
}

/** Parses a project page (`/simple/{project}/`) in whichever format it came. */
export function parseProjectPage(
  body: string,
  contentType: string,
  pageUrl: string,
): PypiProjectPage {
  return simpleFormatOf(contentType, body, pageUrl) === 'json'
    ? parseJsonProjectPage(body, pageUrl)
    : parseHtmlProjectPage(body, pageUrl);
}

/** Parses the project list (`/simple/`) into normalized, deduplicated names. */
export function parseProjectList(body: string, contentType: string, pageUrl: string): string[] {
  return simpleFormatOf(contentType, body, pageUrl) === 'json'
    ? parseJsonProjectList(body, pageUrl)
    : parseHtmlProjectList(body);
}

/**
 * For a server: the media type to answer a simple-API request with, given its Accept header,
 * or undefined when none is acceptable (406). Without a preference HTML wins, which every
 * client reads; a client asking for JSON by q-value gets JSON.
 */
export function chooseSimpleMediaType(accept: string | undefined): string | undefined {
  const chosen = negotiate(accept, [
    'text/html',
    PYPI_HTML_V1,
    PYPI_JSON,
    'application/vnd.pypi.simple.latest+html',
    'application/vnd.pypi.simple.latest+json',
  ]);
  if (chosen === undefined) return undefined;
  return chosen.endsWith('+json') ? PYPI_JSON : chosen.endsWith('+html') ? PYPI_HTML_V1 : chosen;
}
