/**
 * Where a source lives upstream and where `airlock serve` puts it. DESIGN.md: a snapshot is
 * served at the same path it had under `upstream`; a template without {snapshot} (plain CRAN,
 * PyPI) is served under /{name}/{snapshot}/ instead.
 */
import type { SourceConfig } from './types.js';

const ABSOLUTE = /^[a-z][a-z0-9+.-]*:\/\//i;

/** The upstream URL of a snapshot's root, always ending in '/'. */
export function snapshotUrl(
  source: SourceConfig,
  upstream: string | undefined,
  snapshot: string,
): string {
  const filled = source.url.replaceAll('{snapshot}', snapshot);
  const absolute = ABSOLUTE.test(filled)
    ? filled
    : `${upstream ?? ''}/${filled.replace(/^\/+/, '')}`;
  return absolute.endsWith('/') ? absolute : `${absolute}/`;
}

/** The served path template, relative to the server root, containing '{snapshot}'. */
export function servedTemplate(source: SourceConfig): string {
  const path = (
    ABSOLUTE.test(source.url)
      ? new URL(source.url.replaceAll('{snapshot}', '__snapshot__')).pathname
      : source.url
  )
    .replaceAll('__snapshot__', '{snapshot}')
    .replace(/^\/+|\/+$/g, '');
  if (path.includes('{snapshot}')) return path;
  const simple = source.type === 'pypi' && /(^|\/)simple$/.test(path) ? '/simple' : '';
  return `${source.name}/{snapshot}${simple}`;
}
