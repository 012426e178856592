import { describe, expect, test } from 'vitest';
import {
  acceptsGzip,
  etagMatches,
  parseRange,
  rMinorFromUserAgent,
} from '../../src/serve/http-headers.js';
import { buildRoutes, matchRoute } from '../../src/serve/route-table.js';

describe('request header parsing', () => {
  test('gzip is used only when Accept-Encoding allows it', () => {
    expect(acceptsGzip('gzip, deflate, br')).toBe(true);
    expect(acceptsGzip('gzip;q=0, *')).toBe(false);
    expect(acceptsGzip('*')).toBe(true);
    expect(acceptsGzip('identity')).toBe(false);
    expect(acceptsGzip(undefined)).toBe(false);
  });

  test('single byte ranges parse and clamp; unsatisfiable and malformed ones are told apart', () => {
    expect(parseRange('bytes=0-99', 1000)).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=900-', 1000)).toEqual({ start: 900, end: 999 });
    expect(parseRange('bytes=-100', 1000)).toEqual({ start: 900, end: 999 });
    expect(parseRange('bytes=-5000', 1000)).toEqual({ start: 0, end: 999 });
    expect(parseRange('bytes=990-2000', 1000)).toEqual({ start: 990, end: 999 });
    expect(parseRange('bytes=1000-', 1000)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 1000)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-1,5-6', 1000)).toBeUndefined();
    expect(parseRange('items=0-1', 1000)).toBeUndefined();
    expect(parseRange('bytes=9-3', 1000)).toBeUndefined();
  });

  test('If-None-Match compares weakly, in lists and with *', () => {
    expect(etagMatches('"abc"', '"abc"')).toBe(true);
    expect(etagMatches('W/"abc"', '"abc"')).toBe(true);
    expect(etagMatches('"x", "abc"', '"abc"')).toBe(true);
    expect(etagMatches('*', '"abc"')).toBe(true);
    expect(etagMatches('"abcd"', '"abc"')).toBe(false);
  });

  test("the R minor version comes from R's User-Agent only", () => {
    expect(rMinorFromUserAgent('R (4.3.2 x86_64-pc-linux-gnu x86_64 linux-gnu)')).toBe('4.3');
    expect(rMinorFromUserAgent('R/4.4.1 R (4.4.1 x86_64-pc-linux-gnu x86_64 linux-gnu)')).toBe(
      '4.4',
    );
    expect(rMinorFromUserAgent('libcurl/7.88.1')).toBeUndefined();
    expect(rMinorFromUserAgent('pip/23.2.1 CPython (3.11)')).toBeUndefined();
  });
});

describe('routing', () => {
  const routes = buildRoutes({
    cran: { type: 'cran', servedTemplate: 'cran/{snapshot}' },
    'cran-binary': { type: 'cran-binary', servedTemplate: 'cran/__linux__/jammy/{snapshot}' },
    pypi: { type: 'pypi', servedTemplate: 'pypi/{snapshot}/simple' },
  });

  test('the most specific template wins, so __linux__ is never taken for a snapshot id', () => {
    expect(matchRoute(routes, '/cran/__linux__/jammy/latest/src/contrib/PACKAGES')).toMatchObject({
      route: { source: 'cran-binary' },
      snapshot: 'latest',
      rest: 'src/contrib/PACKAGES',
    });
    expect(matchRoute(routes, '/cran/2026-11-01/src/contrib/PACKAGES')).toMatchObject({
      route: { source: 'cran' },
      snapshot: '2026-11-01',
    });
  });

  test('a template with a suffix matches only with it, and keeps the trailing slash of project pages', () => {
    expect(matchRoute(routes, '/pypi/latest/simple/alpha/')).toMatchObject({
      route: { source: 'pypi' },
      rest: 'alpha/',
    });
    expect(matchRoute(routes, '/pypi/latest/simple')).toMatchObject({ bareRoot: true, rest: '' });
    expect(matchRoute(routes, '/pypi/latest/other/alpha/')).toBeUndefined();
    expect(matchRoute(routes, '/nothing/here')).toBeUndefined();
  });
});
