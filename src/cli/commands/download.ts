/** `airlock download`: fetch what the config selects into the workspace. */
import type { Argv } from 'yargs';
import { loadConfig } from '../../config/load-config.js';
import type { Config } from '../../config/types.js';
import { ExitCode, UsageError } from '../../errors.js';
import { createDispatcher } from '../../fetch/dispatcher.js';
import { createRateLimiter, parseRate } from '../../fetch/rate-limit.js';
import { formatSize } from '../../size.js';
import { limitHeapGrowth } from '../../heap-growth.js';
import { runDownload } from '../../download/run.js';
import { planTotals } from '../../download/plan.js';
import type { PlanProblem, SourcePlan, SourceSummary } from '../../download/plan-types.js';
import { Workspace } from '../../workspace/workspace.js';
import {
  noMetadataFetches,
  type MetadataFetches,
  type MetadataFetchPolicy,
} from '../../download/planning-fetches.js';
import { JsonList } from '../json-writer.js';
import { Output } from '../output.js';
import { wholeNumberOption } from '../numeric-option.js';
import { runCommand } from '../run-command.js';
import { DownloadProgress } from '../download-progress.js';
import { failureLine } from '../failure-line.js';

export interface DownloadArgs {
  config: string;
  workspace: string;
  source?: string[];
  snapshot?: string;
  proxy?: string;
  'ca-file'?: string;
  /** A string from the command line (checked by wholeNumberOption). */
  concurrency?: number | string;
  'limit-rate'?: string;
  'dry-run': boolean;
  'metadata-fetch'?: MetadataFetchPolicy;
  json: boolean;
}

export function downloadCommand(y: Argv): Argv {
  return y.command<DownloadArgs>(
    'download',
    'fetch the snapshots a config selects into a workspace (resumable, verified)',
    (a) =>
      a
        .option('config', {
          type: 'string',
          demandOption: true,
          describe: 'YAML or JSON config file',
        })
        .option('workspace', {
          type: 'string',
          demandOption: true,
          describe: 'workspace directory (state.db + blobs/)',
        })
        .option('source', {
          type: 'string',
          array: true,
          describe: 'only this source (repeatable)',
        })
        .option('snapshot', {
          type: 'string',
          describe: "snapshot id (YYYY-MM-DD or latest) instead of the config's",
        })
        .option('proxy', {
          type: 'string',
          describe: 'proxy URL (else HTTPS_PROXY/HTTP_PROXY/NO_PROXY)',
        })
        .option('ca-file', { type: 'string', describe: 'extra CA certificates (PEM)' })
        .option('concurrency', {
          type: 'string',
          describe: 'parallel transfers (default: config, else 8)',
        })
        .option('limit-rate', {
          type: 'string',
          describe: 'cap on total bandwidth, e.g. 20M (MiB/s)',
        })
        .option('dry-run', {
          type: 'boolean',
          default: false,
          describe: 'print the plan; fetch no package file',
        })
        .option('metadata-fetch', {
          choices: ['always', 'never'] as const,
          default: 'always' as const,
          describe:
            'may planning fetch whole distributions to read their dependencies when the upstream has no PEP 658 metadata? (never: their dependencies are reported as unknown)',
        })
        .option('json', {
          type: 'boolean',
          default: false,
          describe: 'print one JSON summary on stdout (and the error object on failure)',
        }) as unknown as Argv<DownloadArgs>,
    (args) => runCommand(({ signal }) => download(args, signal)),
  );
}

export async function download(args: DownloadArgs, signal: AbortSignal): Promise<number> {
  const out = new Output({ json: args.json });
  const concurrencyArg =
    args.concurrency === undefined
      ? undefined
      : wholeNumberOption(args.concurrency, '--concurrency', {
          min: 1,
          expected: 'a whole number of parallel transfers, at least 1',
        });
  const config = loadConfig(args.config);
  if (
    args.snapshot !== undefined &&
    args.snapshot !== 'latest' &&
    !/^\d{4}-\d{2}-\d{2}$/.test(args.snapshot)
  ) {
    throw new UsageError(`--snapshot ${args.snapshot}: not a snapshot id`, {
      hint: 'write YYYY-MM-DD or latest',
    });
  }
  const limitRate =
    args['limit-rate'] !== undefined ? parseRate(args['limit-rate']) : config.limitRate;
  const concurrency = concurrencyArg ?? config.concurrency;
  const proxy = args.proxy ?? config.proxy;
  const caFile = args['ca-file'] ?? config.caFile;
  // --concurrency bounds connections per origin too: planning's metadata fetches and the
  // transfer pool share this dispatcher.
  const dispatcher = createDispatcher({
    ...(proxy ? { proxy } : {}),
    ...(caFile ? { caFile } : {}),
    connections: concurrency,
  });
  // Planning makes garbage fast; fetching does not (see heap-growth.ts).
  const heapLimit = limitHeapGrowth();
  const workspace = Workspace.open(args.workspace, {
    lockFor: 'airlock download',
    create: true,
  });
  const runId = workspace.startRun(`download --config ${config.file}`);
  const swept = workspace.sweepTmp();
  if (swept > 0) out.info(`removed ${swept} stale temporary file(s) from ${workspace.dir}/tmp`);
  const progress = new DownloadProgress(out, args['dry-run']);
  const started = Date.now();
  let status: 'ok' | 'failed' | 'interrupted' = 'failed';
  let recorded = false;
  let plans: SourcePlan[] = [];
  try {
    const result = await runDownload({
      config,
      workspace,
      dispatcher,
      concurrency,
      dryRun: args['dry-run'],
      metadataFetch: args['metadata-fetch'] ?? 'always',
      signal,
      onEvent: (e) => {
        // Every source is planned before the first one is fetched.
        if (e.type === 'fetch-start') heapLimit.release();
        progress.onEvent(e);
      },
      ...(args.source ? { sources: args.source } : {}),
      ...(args.snapshot ? { snapshot: args.snapshot } : {}),
      ...(limitRate ? { limiter: createRateLimiter(limitRate) } : {}),
    });
    plans = result.plans;
    progress.stop();
    if (!result.summaries) {
      printPlan(out, result.plans, config);
      status = 'ok';
      return ExitCode.ok;
    }
    const code = exitCodeOf(result.summaries);
    status = signal.aborted ? 'interrupted' : code === 0 ? 'ok' : 'failed';
    printSummary(out, result.plans, result.summaries, (Date.now() - started) / 1000);
    workspace.finishRun(runId, status, result.summaries);
    recorded = true;
    return code;
  } finally {
    heapLimit.release();
    progress.stop();
    for (const plan of plans) plan.files.close();
    try {
      if (!recorded) workspace.finishRun(runId, status, null);
    } catch {
      // The error already on its way out is the one to report (state.db may be on the same
      // full disk); a run left 'running' only reads as unfinished in the history.
    }
    workspace.close();
    await dispatcher.close();
  }
}

function exitCodeOf(summaries: SourceSummary[]): number {
  const codes = summaries.flatMap((s) => s.failures.map((f) => f.exitCode));
  if (codes.includes(ExitCode.integrity)) return ExitCode.integrity;
  if (codes.includes(ExitCode.storage)) return ExitCode.storage;
  if (codes.length > 0) return ExitCode.network;
  return ExitCode.ok;
}

function printSummary(
  out: Output,
  plans: SourcePlan[],
  summaries: SourceSummary[],
  seconds: number,
): void {
  const sources = summaries.map((s) => {
    const plan = plans.find((p) => p.source.name === s.source);
    return {
      ...s,
      problems: plan?.problems ?? [],
      notes: plan?.notes ?? [],
      metadataFetches: plan?.metadataFetches ?? noMetadataFetches(),
    };
  });
  for (const s of sources) {
    const m = s.metadataFetches;
    // Files planning fetched are "present" by the time the transfers start: say where from.
    const byPlanning =
      m.files === 0
        ? ''
        : ` (${m.files} of them fetched while planning to read their dependencies, ${formatSize(m.transferred)} transferred)`;
    out.info(
      `${s.source}/${s.snapshot}: ${s.fetched} fetched, ${s.skipped} already present${byPlanning}, ${s.failed} failed, ` +
        `${formatSize(s.bytes)} (${formatSize(s.transferred)} transferred) in ${s.seconds.toFixed(1)} s` +
        (s.complete ? '' : ' — incomplete: run the same command again to resume'),
    );
    for (const f of s.failures) out.info(`  failed: ${failureLine(f)}`);
    // Requirements that some environment cannot install were left out: say so on every run,
    // not only in the dry-run plan, so a cron log shows what the far side will miss.
    for (const problem of s.problems) out.warn(`${s.source}: ${problemLine(problem)}`);
    for (const note of s.notes) out.info(`  note: ${note}`);
    for (const line of metadataFetchLines(m)) out.info(`  ${line}`);
  }
  out.result({ command: 'download', seconds, sources });
}

function printPlan(out: Output, plans: SourcePlan[], config: Config): void {
  const environments = config.environments.map((e) => ({
    name: e.name,
    python: e.python ?? null,
    r: e.r ?? null,
    distribution: e.distribution,
    arch: e.arch,
    libc: e.libc === 'glibc' ? `glibc ${e.glibc}` : `musl ${e.musl}`,
    image: e.image ?? null,
  }));
  const json = plans.map((p) => {
    const t = planTotals(p);
    return {
      source: p.source.name,
      snapshot: p.descriptor.snapshot,
      url: p.baseUrl,
      variants: p.descriptor.variants,
      files: t.files,
      present: t.present,
      new: t.files - t.present,
      bytes: t.bytes,
      newBytes: t.newBytes,
      unknownSizes: t.unknownSizes,
      environments: p.environments,
      problems: p.problems,
      notes: p.notes,
      metadataFetches: p.metadataFetches,
      // Read from the plan's scratch table as it is written, and only under --json.
      list: new JsonList(p.files, (f) => ({
        url: f.url,
        path: f.path,
        variant: f.variant,
        size: f.size ?? null,
        sha256: f.upstreamHash?.algorithm === 'sha256' ? f.upstreamHash.value : (f.present ?? null),
        md5: f.upstreamHash?.algorithm === 'md5' ? f.upstreamHash.value : null,
        present: f.present !== undefined,
        reasons: f.reasons,
        environments: f.environments ?? [],
      })),
    };
  });
  for (const e of environments) {
    const runs = [e.python && `Python ${e.python}`, e.r && `R ${e.r}`].filter(Boolean).join(', ');
    out.line(`environment ${e.name}: ${runs} on ${e.distribution} ${e.arch} (${e.libc})`);
  }
  for (const note of config.environmentNotes) out.line(`note: ${note}`);
  for (const p of json) {
    out.line(
      `${p.source}/${p.snapshot}: ${sized(p.files, p.bytes, p.unknownSizes)}; new: ${p.new} files${p.unknownSizes === p.files ? '' : `, ${formatSize(p.newBytes)}`}; already present: ${p.present}`,
    );
    for (const e of p.environments)
      out.line(
        `  for ${e.name}: ${sized(e.files, e.bytes, e.unknownSizes)}; new: ${e.newFiles} files${e.unknownSizes === e.files ? '' : `, ${formatSize(e.newBytes)}`}`,
      );
    for (const problem of p.problems) out.line(`  ${problemLine(problem)}`);
    for (const note of p.notes) out.line(`  note: ${note}`);
    for (const line of metadataFetchLines(p.metadataFetches)) out.line(`  ${line}`);
  }
  out.result({
    command: 'download',
    dryRun: true,
    environments,
    notes: config.environmentNotes,
    sources: json,
  });
}

/** What planning fetched (or was told not to) to read dependencies, in words. */
function metadataFetchLines(m: MetadataFetches): string[] {
  const lines: string[] = [];
  if (m.files > 0) {
    lines.push(
      `planning fetched ${m.files} distribution(s), ${formatSize(m.bytes)} (${formatSize(m.transferred)} transferred), ` +
        'to read their dependencies: the upstream has no PEP 658 metadata for them; they stay in the workspace',
    );
  }
  if (m.withheld > 0) {
    const size =
      m.withheldUnknownSizes === m.withheld
        ? 'size unknown'
        : `${formatSize(m.withheldBytes)}${m.withheldUnknownSizes > 0 ? ` + ${m.withheldUnknownSizes} of unknown size` : ''}`;
    lines.push(
      `planning did not fetch ${m.withheld} distribution(s) (${size}) to read their dependencies (--metadata-fetch never): ` +
        'their dependencies are unknown (listed as problems above); run with --metadata-fetch always to follow them',
    );
  }
  return lines;
}

function problemLine(problem: PlanProblem): string {
  if (problem.file !== undefined) return `${problem.file}: ${problem.why}`;
  const env = problem.environment ? ` for ${problem.environment}` : '';
  return `cannot satisfy ${problem.requirement}${env}: ${problem.why}`;
}

/** CRAN's PACKAGES gives no sizes: say so rather than print "0 B". */
function sized(files: number, bytes: number, unknown: number): string {
  if (files > 0 && unknown === files) return `${files} files, size not in the index`;
  return `${files} files, ${formatSize(bytes)}${unknown > 0 ? ` (+${unknown} files of unknown size)` : ''}`;
}
