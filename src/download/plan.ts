/**
 * Builds the plan of one source: its snapshot identity, index files, the files to carry, and
 * what each target environment uses of them.
 */
import type { CranBinarySourceConfig, CranSourceConfig, SourceConfig } from '../config/types.js';
import { rMinorsFor, type TargetEnvironment } from '../select/environments.js';
import { servedTemplate, snapshotUrl } from '../config/served-path.js';
import {
  rMinorOfVariant,
  variantForR,
  type SnapshotDescriptor,
  type SnapshotEntry,
  type Variant,
} from '../model.js';
import { rUserAgent, USER_AGENT } from '../version.js';
import { planCranVariant } from './plan-cran.js';
import { PlanFiles, type PlanTotals } from './plan-files.js';
import { planPypi } from './plan-pypi.js';
import type {
  EnvironmentTotals,
  PlanContext,
  PlannedFile,
  PlanProblem,
  SourcePlan,
} from './plan-types.js';
import { pythonRoots, rRoots } from './selection-roots.js';
import { noMetadataFetches } from './planning-fetches.js';
import { sizeByHead } from './size-by-head.js';

/** `latest` is recorded as the UTC date of the download (DESIGN.md: resolved at download time). */
export function resolveSnapshotId(requested: string, now: Date): string {
  return requested === 'latest' ? now.toISOString().slice(0, 10) : requested;
}

export async function planSource(
  ctx: PlanContext,
  source: SourceConfig,
  snapshotOverride?: string,
): Promise<SourcePlan> {
  const requested = snapshotOverride ?? source.snapshot;
  const snapshot = resolveSnapshotId(requested, ctx.now);
  const baseUrl = snapshotUrl(source, ctx.config.upstream, requested);
  const label = `${source.name}/${snapshot}`;
  const descriptor: SnapshotDescriptor = {
    source: source.name,
    snapshot,
    type: source.type,
    requested,
    servedTemplate: servedTemplate(source),
    variants: [''],
  };
  const indexes: SnapshotEntry[] = [];
  const files = new PlanFiles();
  const problems: PlanProblem[] = [];
  const notes: string[] = [];
  let metadataFetches = noMetadataFetches();

  try {
    if (source.type === 'pypi') {
      const plan = await planPypi(
        ctx,
        source,
        baseUrl,
        label,
        await pythonRoots(source, ctx.config.file),
        files,
      );
      // Loops, not push(...spread): a 200,000-file plan overflows the call stack as arguments.
      for (const entry of plan.indexes) indexes.push(entry);
      for (const problem of plan.problems) problems.push(problem);
      for (const note of plan.notes) notes.push(note);
      metadataFetches = plan.metadataFetches;
    } else {
      const roots = await rRoots(source, ctx.config.file);
      const variants = cranVariants(source);
      let [asked, unsizable] = [0, 0];
      descriptor.variants = variants.map((v) => v.variant);
      if (source.type === 'cran-binary') descriptor.distribution = source.distribution;
      for (const v of variants) {
        const plan = await planCranVariant(
          ctx,
          source,
          baseUrl,
          v.variant,
          v.headers,
          label,
          roots,
        );
        for (const entry of plan.indexes) indexes.push(entry);
        markREnvironments(plan.files, source, ctx.config.environments);
        if (ctx.sizeUnknown) {
          const sized = await sizeByHead(ctx, plan.files);
          asked += sized.asked;
          unsizable += sized.unknown;
        }
        for (const file of plan.files) files.push(file);
        for (const problem of plan.problems) problems.push(problem);
      }
      if (roots) notes.push(...roots.notes);
      if (asked > 0) {
        notes.push(
          `the index gives no sizes: ${asked - unsizable} of ${asked} new files sized with HEAD requests` +
            (unsizable > 0
              ? `; ${unsizable} stayed unknown (counted as files of unknown size)`
              : ''),
        );
      }
    }
  } catch (err) {
    files.close();
    throw err;
  }
  return {
    source,
    descriptor,
    baseUrl,
    indexes,
    files,
    problems: uniqueProblems(problems),
    environments: environmentTotals(files, ctx.config.environments),
    notes,
    metadataFetches,
  };
}

function cranVariants(
  source: CranSourceConfig | CranBinarySourceConfig,
): Array<{ variant: Variant; headers: Record<string, string> }> {
  if (source.type === 'cran') return [{ variant: '', headers: { 'user-agent': USER_AGENT } }];
  const variants: Array<{ variant: Variant; headers: Record<string, string> }> = source.r.map(
    (minor) => ({ variant: variantForR(minor), headers: { 'user-agent': rUserAgent(minor) } }),
  );
  if (source.fallbackSource) variants.push({ variant: '', headers: { 'user-agent': USER_AGENT } });
  return variants;
}

/**
 * Which environments use each R file: a `cran` source serves every R; a `cran-binary` variant
 * serves the R minor it was built for (its plain variant is for clients without an R
 * User-Agent, so no environment is counted for it).
 */
function markREnvironments(
  files: PlannedFile[],
  source: CranSourceConfig | CranBinarySourceConfig,
  envs: readonly TargetEnvironment[],
): void {
  const withR = envs.filter((e) => e.r !== undefined);
  for (const file of files) {
    const users =
      source.type === 'cran'
        ? withR
        : withR.filter((e) => rMinorOfVariant(file.variant) === rMinorsFor([e])[0]);
    if (users.length > 0) file.environments = users.map((e) => e.name);
  }
}

function environmentTotals(
  files: Iterable<PlannedFile>,
  envs: readonly TargetEnvironment[],
): EnvironmentTotals[] {
  const totals = new Map<string, EnvironmentTotals>();
  const empty = (name: string): EnvironmentTotals => ({
    name,
    files: 0,
    bytes: 0,
    unknownSizes: 0,
    newFiles: 0,
    newBytes: 0,
  });
  for (const env of envs) totals.set(env.name, empty(env.name));
  // The no-environment default of a PyPI closure is reported like a configured one.
  for (const file of files) {
    for (const name of file.environments ?? []) {
      const t = totals.get(name) ?? empty(name);
      t.files++;
      if (file.size === undefined) t.unknownSizes++;
      t.bytes += file.size ?? 0;
      if (file.present === undefined) {
        t.newFiles++;
        t.newBytes += file.size ?? 0;
      }
      totals.set(name, t);
    }
  }
  return [...totals.values()].filter((t) => t.files > 0);
}

/** A cran-binary source resolves once per variant: the same missing package is one problem. */
function uniqueProblems(problems: PlanProblem[]): PlanProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.environment ?? ''}|${p.requirement}|${p.why}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function planTotals(plan: SourcePlan): PlanTotals {
  return { ...plan.files.totals };
}
