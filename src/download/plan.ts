/** Builds the plan of one source: its snapshot identity, index files, and files to carry. */
import type { SourceConfig } from '../config/types.js';
import { servedTemplate, snapshotUrl } from '../config/served-path.js';
import {
  variantForR,
  type SnapshotDescriptor,
  type SnapshotEntry,
  type Variant,
} from '../model.js';
import { rUserAgent, USER_AGENT } from '../version.js';
import { planCranVariant } from './plan-cran.js';
import { planPypi } from './plan-pypi.js';
import type { PlanContext, PlannedFile, PlanProblem, SourcePlan } from './plan-types.js';

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
  const files: PlannedFile[] = [];
  const problems: PlanProblem[] = [];
  let environments: SourcePlan['environments'] = [];

  if (source.type === 'pypi') {
    const plan = await planPypi(ctx, source, baseUrl, label);
    indexes.push(...plan.indexes);
    files.push(...plan.files);
    problems.push(...plan.problems);
    environments = plan.environments;
  } else {
    const variants: Array<{ variant: Variant; headers: Record<string, string> }> = [];
    if (source.type === 'cran-binary') {
      descriptor.distribution = source.distribution;
      for (const minor of source.r)
        variants.push({
          variant: variantForR(minor),
          headers: { 'user-agent': rUserAgent(minor) },
        });
      if (source.fallbackSource)
        variants.push({ variant: '', headers: { 'user-agent': USER_AGENT } });
    } else {
      variants.push({ variant: '', headers: { 'user-agent': USER_AGENT } });
    }
    descriptor.variants = variants.map((v) => v.variant);
    for (const v of variants) {
      const plan = await planCranVariant(ctx, source, baseUrl, v.variant, v.headers, label);
      indexes.push(...plan.indexes);
      files.push(...plan.files);
      problems.push(...plan.problems);
    }
  }
  return { source, descriptor, baseUrl, indexes, files, problems, environments };
}

export interface PlanTotals {
  files: number;
  present: number;
  bytes: number;
  newBytes: number;
  unknownSizes: number;
}

export function planTotals(plan: SourcePlan): PlanTotals {
  const t: PlanTotals = {
    files: plan.files.length,
    present: 0,
    bytes: 0,
    newBytes: 0,
    unknownSizes: 0,
  };
  for (const f of plan.files) {
    if (f.size === undefined) t.unknownSizes++;
    t.bytes += f.size ?? 0;
    if (f.present !== undefined) t.present++;
    else t.newBytes += f.size ?? 0;
  }
  return t;
}
