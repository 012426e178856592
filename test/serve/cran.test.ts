import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { FixtureFile } from '../../src/fixture/catalog.js';
import type { RunningServer } from '../../src/serve/server.js';
import { sha256 } from './fixture-repository.js';
import { createHarness, type Harness } from './serve-harness.js';

const run = promisify(execFile);
let h: Harness;
let server: RunningServer;

beforeAll(async () => {
  // R here is 4.2: give it a binary variant of its own so the User-Agent path is exercised by R itself.
  h = await createHarness({ fixture: { rMinors: ['4.2', '4.3'] } });
  server = await h.start();
});
afterAll(() => h.cleanup());

function fixtureFile(
  source: 'cran' | 'cran-binary',
  snapshot: string,
  name: string,
  variant = '',
): FixtureFile {
  const file = h.catalog.sources[source].snapshots[snapshot]!.files.find(
    (f) => f.urlPath.endsWith(`/${name}`) && f.variant === variant,
  );
  if (!file) throw new Error(`fixture has no ${name} (${variant}) in ${source} ${snapshot}`);
  return file;
}

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await request(`${server.url}${path}`, { headers });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body };
}

async function rscript(code: string): Promise<string> {
  const { stdout, stderr } = await run('Rscript', ['--vanilla', '-e', code], { timeout: 60_000 });
  return stdout + stderr;
}

async function installedPackages(lib: string): Promise<string[]> {
  return (await readdir(lib)).filter((name) => !name.startsWith('00')).sort();
}

describe('CRAN-like snapshots', () => {
  test('PACKAGES and PACKAGES.gz are served byte for byte as imported, PACKAGES.rds is 404', async () => {
    for (const name of ['PACKAGES', 'PACKAGES.gz']) {
      const expected = await readFile(
        join(h.fixtureDir, fixtureFile('cran', '2026-11-01', name).diskPath),
      );
      const res = await get(`/cran/2026-11-01/src/contrib/${name}`);
      expect(res.status).toBe(200);
      expect(res.body.equals(expected)).toBe(true);
      expect(res.headers['content-length']).toBe(String(expected.length));
      expect(res.headers.etag).toBe(`"${sha256(expected)}"`);
    }
    expect((await get('/cran/2026-11-01/src/contrib/PACKAGES')).headers['content-type']).toMatch(
      /^text\/plain/,
    );
    expect((await get('/cran/2026-11-01/src/contrib/PACKAGES.gz')).headers['content-type']).toBe(
      'application/gzip',
    );
    const rds = await get('/cran/2026-11-01/src/contrib/PACKAGES.rds');
    expect(rds.status).toBe(404);
    expect(rds.body.toString()).toContain('PACKAGES.gz');
  });

  test('latest serves the newest snapshot and older versions stay reachable under Archive/', async () => {
    const latest = await get('/cran/latest/src/contrib/PACKAGES');
    const newest = await readFile(
      join(h.fixtureDir, fixtureFile('cran', '2026-11-15', 'PACKAGES').diskPath),
    );
    expect(latest.body.equals(newest)).toBe(true);
    expect(latest.headers['cache-control']).toBe('public, max-age=300');
    const archived = await get('/cran/latest/src/contrib/Archive/airA/airA_1.0.tar.gz');
    expect(archived.status).toBe(200);
    expect(archived.headers['content-type']).toBe('application/x-gzip');
    const dated = await get('/cran/2026-11-01/src/contrib/airA_1.0.tar.gz');
    expect(dated.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  test('install.packages installs a package with its dependency chain from a dated snapshot and from latest', async () => {
    for (const snapshot of ['2026-11-01', 'latest']) {
      const lib = join(h.dir, `lib-${snapshot}`);
      const out = await rscript(
        `dir.create("${lib}"); install.packages("airA", repos = "${server.url}/cran/${snapshot}", lib = "${lib}", quiet = TRUE); ` +
          `.libPaths(c("${lib}", .libPaths())); library(airA); cat(hello_airA(), "\\n")`,
      );
      expect(await installedPackages(lib)).toEqual(['airA', 'airB', 'airC', 'airD']);
      expect(out).toContain(snapshot === 'latest' ? 'hello from airA 1.1' : 'hello from airA 1.0');
    }
  }, 120_000);

  test('a binary source serves the variant for the R version in the User-Agent, and the source file otherwise', async () => {
    const path = '/cran/__linux__/jammy/2026-11-01/src/contrib/airB_1.0.tar.gz';
    const r43 = await get(path, { 'user-agent': 'R (4.3.2 x86_64-pc-linux-gnu x86_64 linux-gnu)' });
    const r41 = await get(path, { 'user-agent': 'R (4.1.0 x86_64-pc-linux-gnu x86_64 linux-gnu)' });
    const curl = await get(path, { 'user-agent': 'libcurl/7.88.1' });
    expect(sha256(r43.body)).toBe(
      fixtureFile('cran-binary', '2026-11-01', 'airB_1.0.tar.gz', 'R-4.3').sha256,
    );
    expect(sha256(r41.body)).toBe(
      fixtureFile('cran-binary', '2026-11-01', 'airB_1.0.tar.gz').sha256,
    );
    expect(curl.body.equals(r41.body)).toBe(true);
    expect(r43.headers.vary).toContain('User-Agent');
    const packages = await get('/cran/__linux__/jammy/2026-11-01/src/contrib/PACKAGES', {
      'user-agent': 'R (4.3.2 x86_64-pc-linux-gnu x86_64 linux-gnu)',
    });
    expect(sha256(packages.body)).toBe(
      fixtureFile('cran-binary', '2026-11-01', 'PACKAGES', 'R-4.3').sha256,
    );
  });

  test('R with the documented HTTPUserAgent line installs the binary built for its own R version', async () => {
    const lib = join(h.dir, 'lib-binary');
    const out = await rscript(
      'options(HTTPUserAgent = sprintf("R/%s R (%s)", getRversion(), paste(getRversion(), R.version["platform"], R.version["arch"], R.version["os"]))); ' +
        `dir.create("${lib}"); install.packages("airA", repos = "${server.url}/cran/__linux__/jammy/latest", lib = "${lib}", quiet = TRUE); ` +
        `cat("variant:", packageDescription("airA", lib.loc = "${lib}")$AirlockVariant, "\\n")`,
    );
    expect(out).toContain('variant: R-4.2');
    expect(await installedPackages(lib)).toEqual(['airA', 'airB', 'airC', 'airD']);
  }, 120_000);

  test('an unknown snapshot or file is a 404 whose body says what exists', async () => {
    const snapshot = await get('/cran/2026-10-01/src/contrib/PACKAGES');
    expect(snapshot.status).toBe(404);
    expect(snapshot.body.toString()).toContain(
      'no snapshot 2026-10-01 of source cran; published: 2026-11-01, 2026-11-15',
    );
    const file = await get('/cran/2026-11-01/src/contrib/nothere_1.0.tar.gz');
    expect(file.status).toBe(404);
    expect(file.body.toString()).toContain(
      'no file src/contrib/nothere_1.0.tar.gz in snapshot 2026-11-01 of source cran',
    );
  });
});
