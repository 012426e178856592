/**
 * Maps a request path to (source, snapshot, path inside the snapshot) using each source's
 * servedTemplate from published.json. Templates can share a prefix ('cran/{snapshot}' and
 * 'cran/__linux__/jammy/{snapshot}'), so the one with the most literal segments is tried
 * first: '__linux__' is then never mistaken for a snapshot id.
 */
import type { SourceType } from '../model.js';

export interface Route {
  source: string;
  type: SourceType;
  template: string;
  prefix: string[];
  suffix: string[];
}

export interface RouteMatch {
  route: Route;
  /** As requested: a snapshot id or 'latest'. */
  snapshot: string;
  /** Path inside the snapshot root ('' for the root itself); keeps a trailing '/'. */
  rest: string;
  /** True when the request named the snapshot root without its trailing slash. */
  bareRoot: boolean;
}

export function buildRoutes(
  sources: Record<string, { type: SourceType; servedTemplate: string }>,
): Route[] {
  const routes: Route[] = [];
  for (const [source, { type, servedTemplate }] of Object.entries(sources)) {
    // A template without {snapshot} (an absolute upstream URL) is served under /{name}/{snapshot}/.
    const template = servedTemplate.includes('{snapshot}')
      ? servedTemplate
      : `${source}/{snapshot}`;
    const segments = template.split('/').filter((s) => s !== '');
    const at = segments.indexOf('{snapshot}');
    routes.push({
      source,
      type,
      template,
      prefix: segments.slice(0, at),
      suffix: segments.slice(at + 1),
    });
  }
  const literals = (r: Route) => r.prefix.length + r.suffix.length;
  return routes.sort((a, b) => literals(b) - literals(a) || a.template.localeCompare(b.template));
}

/** `pathname` is the decoded request path with its leading '/'. */
export function matchRoute(routes: readonly Route[], pathname: string): RouteMatch | undefined {
  const segments = pathname.split('/').slice(1);
  for (const route of routes) {
    const { prefix, suffix } = route;
    if (segments.length < prefix.length + 1 + suffix.length) continue;
    if (!prefix.every((s, i) => segments[i] === s)) continue;
    const snapshot = segments[prefix.length]!;
    if (snapshot === '') continue;
    const afterSnapshot = prefix.length + 1;
    if (!suffix.every((s, i) => segments[afterSnapshot + i] === s)) continue;
    const restSegments = segments.slice(afterSnapshot + suffix.length);
    return { route, snapshot, rest: restSegments.join('/'), bareRoot: restSegments.length === 0 };
  }
  return undefined;
}

/** The URL path (with leading '/') of a snapshot root, ending in '/'. */
export function rootPath(route: Route, snapshot: string): string {
  return `/${[...route.prefix, snapshot, ...route.suffix].join('/')}/`;
}
