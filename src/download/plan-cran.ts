/**
 * Plans a CRAN-like source (`cran`, or one variant of a `cran-binary` source): fetch the
 * index, select packages (everything, or the closure of the roots), and list the files with
 * the MD5 the index publishes for each.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { ConfigError, NetworkError } from '../errors.js';
import type { CranBinarySourceConfig, CranSourceConfig } from '../config/types.js';
import type { SnapshotEntry, Variant } from '../model.js';
import {
  cranFilePath,
  parseCranIndex,
  renderPackages,
  type CranPackage,
} from '../upstream/cran-index.js';
import pLimit from 'p-limit';
import { fetchBytes } from '../fetch/fetch-bytes.js';
import { parseArchiveListing, type ArchivedFile } from '../upstream/cran-archive.js';
import { satisfiesR } from '../upstream/cran-index.js';
import type { RUnsatisfied } from '../select/r-closure.js';
import type { PlanContext, PlannedFile, PlanProblem } from './plan-types.js';
import { planFetchOptions } from './plan-fetch-options.js';
import { storeIndexEntry } from './store-index.js';
import { selectCranPackages } from './select-cran.js';
import type { RRoots } from './selection-roots.js';

export interface CranVariantPlan {
  indexes: SnapshotEntry[];
  files: PlannedFile[];
  problems: PlanProblem[];
}

/** PACKAGES.gz, else PACKAGES (DESIGN.md); returns the uncompressed text and what answered. */
async function fetchPackages(
  ctx: PlanContext,
  baseUrl: string,
  headers: Record<string, string>,
): Promise<{ text: Buffer; gz?: Buffer; url: string }> {
  const gzUrl = `${baseUrl}src/contrib/PACKAGES.gz`;
  ctx.onEvent?.({ type: 'index', source: '', url: gzUrl });
  try {
    const res = await fetchBytes(gzUrl, fetchOpts(ctx, headers));
    return { text: gunzipSync(res.body), gz: res.body, url: res.url };
  } catch (err) {
    if (!(err instanceof NetworkError) || (err.status !== 404 && err.status !== 410)) throw err;
  }
  const plainUrl = `${baseUrl}src/contrib/PACKAGES`;
  const res = await fetchBytes(plainUrl, fetchOpts(ctx, headers));
  return { text: res.body, url: res.url };
}

function fetchOpts(ctx: PlanContext, headers: Record<string, string>) {
  return planFetchOptions(ctx, headers);
}

export async function planCranVariant(
  ctx: PlanContext,
  source: CranSourceConfig | CranBinarySourceConfig,
  baseUrl: string,
  variant: Variant,
  headers: Record<string, string>,
  label: string,
  roots: RRoots | undefined,
): Promise<CranVariantPlan> {
  const fetched = await fetchPackages(ctx, baseUrl, headers);
  const index = parseCranIndex(fetched.text.toString('utf8'), fetched.url);
  const selection = selectCranPackages(index, source, label, roots);
  const fetchedAt = ctx.now.toISOString();

  // The whole index, untouched, when everything is carried; otherwise only the selected
  // stanzas, so R never offers a package this mirror does not have.
  const whole = selection.everything;
  const text = whole
    ? fetched.text
    : Buffer.from(renderPackages(selection.packages.map((p) => p.pkg.stanza)), 'utf8');
  const gz = whole && fetched.gz ? fetched.gz : gzipSync(text, { level: 9 });
  const generated = !whole;
  const indexes = [
    await storeIndexEntry(
      ctx.workspace,
      text,
      { path: 'src/contrib/PACKAGES', variant },
      { url: fetched.url, fetchedAt, generated: generated || fetched.gz !== undefined },
    ),
    await storeIndexEntry(
      ctx.workspace,
      gz,
      { path: 'src/contrib/PACKAGES.gz', variant },
      { url: fetched.url, fetchedAt, generated: generated || fetched.gz === undefined },
    ),
  ];

  const files: PlannedFile[] = [];
  for (const { pkg, archived, reasons } of selection.packages) {
    files.push(plannedCranFile(ctx, pkg, archived, baseUrl, variant, headers, reasons));
  }
  const problems = [...selection.problems];
  if (selection.fromArchive.length > 0) {
    const pinned = await plannedArchivePins(ctx, selection.fromArchive, baseUrl, variant, headers);
    files.push(...pinned.files);
    problems.push(
      ...pinned.unmet.map((u) => ({
        source: source.name,
        requirement: u.chain.join(' -> '),
        why: u.why,
      })),
    );
    if (pinned.unmet.length > 0 && !source.allowMissing) {
      throw new ConfigError(
        `${label}: ${pinned.unmet.length === 1 ? 'a requirement' : `${pinned.unmet.length} requirements`} cannot be carried:\n${pinned.unmet.map((u) => `  ${u.why}`).join('\n')}`,
        {
          hint: `fix the package list of source ${source.name}, choose a snapshot that has them, or set "allow-missing: true" to carry the rest`,
        },
      );
    }
  }
  if (source.archive) {
    for (const file of await plannedArchiveFiles(ctx, files, baseUrl, variant, headers))
      files.push(file);
  }
  return { indexes, files, problems };
}

/**
 * `archive: true` and a constraint no current version meets (an renv.lock pin of an older
 * release): every version in Archive/{pkg}/ that meets it, newest first. Archived versions
 * are listed by no PACKAGES, so their own dependencies cannot be followed: the reason says so.
 */
async function plannedArchivePins(
  ctx: PlanContext,
  wanted: readonly RUnsatisfied[],
  baseUrl: string,
  variant: Variant,
  headers: Record<string, string>,
): Promise<{ files: PlannedFile[]; unmet: { chain: string[]; why: string }[] }> {
  const listings = await fetchArchiveListings(
    ctx,
    wanted.map((w) => w.name),
    baseUrl,
    headers,
  );
  const files: PlannedFile[] = [];
  const unmet: { chain: string[]; why: string }[] = [];
  for (const w of wanted) {
    const archived = listings.get(w.name) ?? [];
    const fitting = archived.filter((f) => w.constraints.every((c) => satisfiesR(f.version, c)));
    if (fitting.length === 0) {
      const wantedText = w.constraints.map((c) => `${c.op} ${c.version}`).join(', ');
      const all = [...w.available, ...archived.map((f) => `${f.version} (Archive)`)];
      unmet.push({
        chain: w.chain,
        why: `${w.chain.join(' -> ')}: ${w.name} (${wantedText}) is neither current nor in Archive/${w.name}/, which has ${all.join(', ')}`,
      });
      continue;
    }
    for (const f of fitting) {
      const file: PlannedFile = {
        url: f.url,
        path: `src/contrib/Archive/${w.name}/${f.file}`,
        variant,
        role: 'package',
        package: w.name,
        version: f.version,
        reasons: [`${w.chain.join(' -> ')} (from Archive/; its own dependencies are not followed)`],
      };
      if (Object.keys(headers).length > 0) file.headers = headers;
      files.push(file);
    }
  }
  return { files, unmet };
}

/** The Archive/{pkg}/ listings of `names` (none for a package without such a page). */
async function fetchArchiveListings(
  ctx: PlanContext,
  names: readonly string[],
  baseUrl: string,
  headers: Record<string, string>,
): Promise<Map<string, ArchivedFile[]>> {
  const limit = pLimit(ctx.config.concurrency);
  const pages = await Promise.all(
    names.map((name) =>
      limit(async (): Promise<[string, ArchivedFile[]]> => {
        const url = `${baseUrl}src/contrib/Archive/${encodeURIComponent(name)}/`;
        try {
          const res = await fetchBytes(url, fetchOpts(ctx, headers));
          return [name, parseArchiveListing(res.body.toString('utf8'), name, res.url)];
        } catch (err) {
          if (err instanceof NetworkError && (err.status === 404 || err.status === 410))
            return [name, []];
          throw err;
        }
      }),
    ),
  );
  return new Map(pages);
}

function plannedCranFile(
  ctx: PlanContext,
  pkg: CranPackage,
  archived: boolean,
  baseUrl: string,
  variant: Variant,
  headers: Record<string, string>,
  reasons: string[],
): PlannedFile {
  const path = cranFilePath(pkg, archived);
  const file: PlannedFile = {
    url: baseUrl + path,
    path,
    variant,
    role: 'package',
    package: pkg.name,
    version: pkg.version,
    reasons,
  };
  if (Object.keys(headers).length > 0) file.headers = headers;
  if (pkg.size !== undefined) file.size = pkg.size;
  if (pkg.md5 !== undefined) {
    file.upstreamHash = { algorithm: 'md5', value: pkg.md5 };
    const present = ctx.workspace.blobByMd5(pkg.md5, pkg.size);
    if (present !== undefined) file.present = present;
  }
  return file;
}

/**
 * `archive: true`: the older versions of every carried package, from CRAN's Archive/{pkg}/
 * directory pages. CRAN publishes no hashes for them, so they are verified only by the sha256
 * airlock computes and records; a package without an archive page simply has none.
 */
async function plannedArchiveFiles(
  ctx: PlanContext,
  current: readonly PlannedFile[],
  baseUrl: string,
  variant: Variant,
  headers: Record<string, string>,
): Promise<PlannedFile[]> {
  const carried = new Set(current.map((f) => `${f.package}_${f.version}`));
  const names = [
    ...new Set(current.map((f) => f.package).filter((n): n is string => n !== undefined)),
  ];
  const pages = [...(await fetchArchiveListings(ctx, names, baseUrl, headers))].map(
    ([name, files]) => ({ name, files }),
  );
  const planned: PlannedFile[] = [];
  for (const { name, files } of pages) {
    for (const f of files) {
      if (carried.has(`${name}_${f.version}`)) continue;
      const path = `src/contrib/Archive/${name}/${f.file}`;
      const file: PlannedFile = {
        url: f.url,
        path,
        variant,
        role: 'package',
        package: name,
        version: f.version,
        reasons: [`${name} (archive: true)`],
      };
      if (Object.keys(headers).length > 0) file.headers = headers;
      planned.push(file);
    }
  }
  return planned;
}
