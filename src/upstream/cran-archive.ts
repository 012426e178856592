/**
 * CRAN keeps older versions of a package in `src/contrib/Archive/{pkg}/`, listed by no index:
 * the only list is the web server's directory page (Apache's autoindex on CRAN and its
 * mirrors). This reads the file links of such a page. Pure parsing: the caller fetches it.
 */
import { compareRVersions, isRVersion } from './r-dependency.js';

export interface ArchivedFile {
  file: string;
  version: string;
  /** Absolute URL, resolved against the listing page. */
  url: string;
}

const HREF = /<a\s[^>]*?href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi;

/** The `{pkg}_{version}.tar.gz` files a directory page links, oldest first. */
export function parseArchiveListing(html: string, pkg: string, pageUrl: string): ArchivedFile[] {
  const prefix = `${pkg}_`;
  const found = new Map<string, ArchivedFile>();
  for (const m of html.matchAll(HREF)) {
    const href = decodeHtml(m[1] ?? m[2] ?? m[3] ?? '');
    let url: URL;
    try {
      url = new URL(href, pageUrl);
    } catch {
      continue;
    }
    // Only links to a file in this very directory: a listing page may link its parent, sort
    // orders (?C=M;O=A) and, on a hostile server, anything else.
    const file = decodeURIComponent(url.pathname.split('/').pop() ?? '');
    if (url.href !== new URL(encodeURIComponent(file), pageUrl).href) continue;
    if (!file.startsWith(prefix) || !file.endsWith('.tar.gz')) continue;
    const version = file.slice(prefix.length, -'.tar.gz'.length);
    if (!isRVersion(version)) continue;
    found.set(file, { file, version, url: url.href });
  }
  return [...found.values()].sort((a, b) => compareRVersions(a.version, b.version));
}

function decodeHtml(text: string): string {
  return text
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'");
}
