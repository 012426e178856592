/**
 * The page at '/': what this server holds (sources, snapshots, counts, sizes) and the exact
 * client lines for it, written with the host name the visitor used, so they can be pasted.
 */
import { escapeHtml } from '../upstream/html-scan.js';
import type { RepositoryState } from './repository-view.js';
import { rootPath, type Route } from './route-table.js';
import { formatSize } from '../size.js';
import type { CarriedSummary } from './carried-summary.js';

// R's default User-Agent is 'libcurl/...': binaries are chosen by R version only when R sends
// this one, which is the line Package Manager documents for its Linux binaries.
const R_USER_AGENT_LINE =
  'options(HTTPUserAgent = sprintf("R/%s R (%s)", getRversion(), paste(getRversion(), R.version["platform"], R.version["arch"], R.version["os"])))';

export function renderLandingPage(
  state: RepositoryState,
  host: string,
  scheme: 'http' | 'https' = 'http',
  /** Per source: what its latest snapshot carries (left out when its index is unreadable). */
  carried: ReadonlyMap<string, CarriedSummary> = new Map(),
): string {
  const base = `${scheme}://${host}`;
  const sections = state.routes.map((route) =>
    sourceSection(state, route, base, carried.get(route.source)),
  );
  return [
    '<!DOCTYPE html>',
    '<html>',
    '<head><meta charset="utf-8"><title>airlock package mirror</title>',
    '<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}td,th{padding:0 1em;text-align:left}pre{background:#f4f4f4;padding:.5em}</style>',
    '</head>',
    '<body>',
    '<h1>airlock package mirror</h1>',
    `<p>Repository generation ${state.published.generation}${state.published.updatedAt ? `, updated ${escapeHtml(state.published.updatedAt)}` : ''}.</p>`,
    ...(sections.length > 0
      ? sections
      : ['<p>Nothing is published yet: import a bundle with <code>airlock import</code>.</p>']),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function sourceSection(
  state: RepositoryState,
  route: Route,
  base: string,
  carried: CarriedSummary | undefined,
): string {
  const source = state.published.sources[route.source]!;
  const ids = [...(state.snapshotIds.get(route.source) ?? [])].reverse();
  const rows = ids.map((id, i) => {
    const snapshot = source.snapshots[id]!;
    const url = `${base}${rootPath(route, id)}`;
    const label = i === 0 ? `${id} (latest)` : id;
    return `<tr><td><a href="${escapeHtml(url)}">${escapeHtml(label)}</a></td><td>${snapshot.entries}</td><td>${formatSize(snapshot.bytes)}</td><td>${escapeHtml(snapshot.publishedAt)}</td></tr>`;
  });
  const latest = `${base}${rootPath(route, 'latest')}`.replace(/\/$/, '');
  return [
    `<h2>${escapeHtml(route.source)} <small>(${escapeHtml(source.type)}${source.distribution ? `, ${escapeHtml(source.distribution)}` : ''})</small></h2>`,
    '<table><tr><th>snapshot</th><th>files</th><th>size</th><th>published</th></tr>',
    ...rows,
    '</table>',
    ...(carried ? [carriedLine(route, carried)] : []),
    clientLines(route, latest, base),
  ].join('\n');
}

// Long platform lists (manylinux variants by glibc version) are cut: the page is for people.
const MAX_LISTED = 12;

function listed(items: readonly string[]): string {
  const shown = items.slice(0, MAX_LISTED).map(escapeHtml).join(', ');
  return items.length > MAX_LISTED ? `${shown} and ${items.length - MAX_LISTED} more` : shown;
}

function carriedLine(route: Route, c: CarriedSummary): string {
  if (route.type === 'pypi') {
    const wheels =
      c.wheels === 0
        ? 'no wheels'
        : `${c.wheels} wheels for Python ${listed(c.pythonTags)} on ${listed(c.platforms)}`;
    return `<p>Latest snapshot: ${wheels}; ${c.sdists} source distributions.</p>`;
  }
  if (c.rMinors.length === 0) return '<p>Latest snapshot: source packages only.</p>';
  return `<p>Latest snapshot: binaries for R ${listed(c.rMinors)} (other R versions get the source packages).</p>`;
}

function clientLines(route: Route, latest: string, base: string): string {
  if (route.type === 'pypi') {
    const hostname = new URL(base).hostname;
    // Behind a TLS terminator pip checks the certificate: trusted-host is only for plain HTTP.
    const plain = base.startsWith('http:');
    return [
      `<p>pip (<code>pip.conf</code> or <code>~/.config/pip/pip.conf</code>${plain ? '; <code>trusted-host</code> because this server speaks plain HTTP' : ''}):</p>`,
      `<pre>[global]\nindex-url = ${escapeHtml(latest)}${plain ? `\ntrusted-host = ${escapeHtml(hostname)}` : ''}</pre>`,
      `<p>One command: <code>pip install --index-url ${escapeHtml(latest)}${plain ? ` --trusted-host ${escapeHtml(hostname)}` : ''} PACKAGE</code></p>`,
      `<p>uv: <code>export UV_INDEX_URL=${escapeHtml(latest)}</code></p>`,
    ].join('\n');
  }
  const lines = [`options(repos = c(CRAN = "${latest}"))`];
  if (route.type === 'cran-binary') lines.push(R_USER_AGENT_LINE);
  return [
    `<p>R (<code>.Rprofile</code>${route.type === 'cran-binary' ? '; the second line makes R send its version, which picks the binary built for it' : ''}):</p>`,
    `<pre>${escapeHtml(lines.join('\n'))}</pre>`,
  ].join('\n');
}
