/**
 * Plans a CRAN-like source (`cran`, or one variant of a `cran-binary` source): fetch the
 * index, select packages (everything, or the closure of the roots), and list the files with
 * the MD5 the index publishes for each.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { NetworkError } from '../errors.js';
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
import { parseArchiveListing } from '../upstream/cran-archive.js';
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
  if (source.archive) {
    for (const file of await plannedArchiveFiles(ctx, files, baseUrl, variant, headers))
      files.push(file);
  }
  return { indexes, files, problems: selection.problems };
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
  const limit = pLimit(ctx.config.concurrency);
  const pages = await Promise.all(
    names.map((name) =>
      limit(async () => {
        const url = `${baseUrl}src/contrib/Archive/${encodeURIComponent(name)}/`;
        try {
          const res = await fetchBytes(url, fetchOpts(ctx, headers));
          return { name, files: parseArchiveListing(res.body.toString('utf8'), name, res.url) };
        } catch (err) {
          if (err instanceof NetworkError && (err.status === 404 || err.status === 410))
            return { name, files: [] };
          throw err;
        }
      }),
    ),
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
