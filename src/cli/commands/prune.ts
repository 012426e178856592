/**
 * `airlock prune`: remove old snapshots from a workspace (--workspace) or a repository
 * (--repo), and the files only they used. On a repository, files wait out a grace period.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { UsageError } from '../../errors.js';
import { parseDuration } from '../../prune/duration.js';
import { parseRetention, type RetentionRule } from '../../prune/retention.js';
import { pruneRepository, type RepoPruneSummary } from '../../repo/prune.js';
import { formatSize } from '../../size.js';
import { pruneWorkspace, type WorkspacePruneSummary } from '../../workspace/prune.js';
import { Workspace } from '../../workspace/workspace.js';
import { Output } from '../output.js';
import { eitherSideOptions, openRepo } from '../repo-options.js';
import { runCommand } from '../run-command.js';

/**
 * Longer than any download from a server (minutes), than a server's view of published.json
 * (seconds) and than HTTP caches may keep a dated index page (an hour): 24 hours.
 */
export const DEFAULT_GRACE = '24h';

interface PruneArgs {
  workspace?: string;
  repo?: string;
  's3-endpoint'?: string;
  keep?: number;
  before?: string;
  snapshot?: string[];
  grace?: string;
  'dry-run': boolean;
  wait: boolean;
  json: boolean;
}

export function pruneCommand(y: Argv): Argv {
  return y.command<PruneArgs>(
    'prune',
    'remove old snapshots, and the files only they use, from a workspace or a repository',
    (a) =>
      eitherSideOptions(a)
        .option('keep', { type: 'number', describe: 'keep the newest N snapshots of each source' })
        .option('before', {
          type: 'string',
          describe: 'remove snapshots older than YYYY-MM-DD (never the newest of a source)',
        })
        .option('snapshot', {
          type: 'string',
          array: true,
          describe: 'remove this snapshot: SOURCE/ID, or ID in every source (repeatable)',
        })
        .option('grace', {
          type: 'string',
          describe: `repository: delete unreferenced files only this long after (default ${DEFAULT_GRACE}; 0 for none)`,
        })
        .option('dry-run', {
          type: 'boolean',
          default: false,
          describe: 'show what would go and the bytes it frees; change nothing',
        })
        .option('wait', {
          type: 'boolean',
          default: false,
          describe: 'repository: wait for a running import instead of failing',
        })
        .option('json', {
          type: 'boolean',
          default: false,
          describe: 'one JSON summary on stdout',
        }) as unknown as Argv<PruneArgs>,
    (args) =>
      runCommand(async ({ signal }) => {
        const out = new Output({ json: args.json });
        const rule = parseRetention({
          ...(args.keep === undefined ? {} : { keep: args.keep }),
          ...(args.before === undefined ? {} : { before: args.before }),
          ...(args.snapshot === undefined ? {} : { snapshot: args.snapshot }),
        });
        if (args.workspace !== undefined) {
          if (args.grace !== undefined) {
            throw new UsageError('--grace applies to a repository (--repo), not a workspace', {
              hint: 'a workspace serves nobody: its files go at once; drop --grace',
            });
          }
          return pruneWorkspaceCommand(out, args.workspace, rule, args['dry-run'], signal);
        }
        if (args.repo !== undefined) {
          const graceMs = parseDuration(args.grace ?? DEFAULT_GRACE, '--grace');
          return pruneRepoCommand(out, { ...args, repo: args.repo }, rule, graceMs, signal);
        }
        throw new UsageError('prune needs --workspace DIR or --repo DIR|s3://...', {
          hint: 'say which side to prune',
        });
      }),
  );
}

async function pruneWorkspaceCommand(
  out: Output,
  dir: string,
  rule: RetentionRule,
  dryRun: boolean,
  signal: AbortSignal,
): Promise<number> {
  // Only download creates a workspace: a typo must not leave an empty one behind.
  const root = resolve(dir);
  if (!existsSync(join(root, 'state.db'))) {
    throw new UsageError(`${root} is not an airlock workspace (it has no state.db)`, {
      hint: 'check the --workspace path; a workspace is created by `airlock download`',
    });
  }
  const ws = Workspace.open(root, { lockFor: 'prune' });
  try {
    const summary = await pruneWorkspace(ws, { rule, dryRun, signal });
    printWorkspace(out, summary);
    out.result({ command: 'prune', workspace: ws.dir, ...summary });
    return 0;
  } finally {
    ws.close();
  }
}

function printWorkspace(out: Output, s: WorkspacePruneSummary): void {
  const verb = s.dryRun ? 'would remove' : 'removed';
  for (const snap of s.snapshots) {
    out.line(
      `${verb} ${snap.source}/${snap.snapshot} (${why(snap.reason)}): ${snap.entries} files, ${formatSize(snap.bytes)}${snap.complete ? '' : ', incomplete'}`,
    );
    if (!snap.bundled) out.warn(`${snap.source}/${snap.snapshot} never travelled in a bundle`);
  }
  for (const name of s.alreadyPruned) out.line(`${name}: already removed by an earlier prune`);
  out.line(
    `${s.dryRun ? 'would free' : 'freed'} ${formatSize(s.deleted.bytes)} (${s.deleted.blobs} files no snapshot uses)`,
  );
}

async function pruneRepoCommand(
  out: Output,
  args: { repo: string; 's3-endpoint'?: string; grace?: string; 'dry-run': boolean; wait: boolean },
  rule: RetentionRule,
  graceMs: number,
  signal: AbortSignal,
): Promise<number> {
  const storage = await openRepo(args);
  try {
    const summary = await pruneRepository({
      storage,
      rule,
      graceMs,
      dryRun: args['dry-run'],
      wait: args.wait,
      signal,
      onEvent: (e) => {
        if (e.type === 'lock-wait')
          out.info(`waiting for the import lock (${e.holder.host}, pid ${e.holder.pid})`);
        else if (e.type === 'lock-takeover') out.info(`took over a stale import lock: ${e.reason}`);
        else if (e.type === 'prune-published')
          out.info(`published generation ${e.generation} without ${e.removed} snapshot(s)`);
      },
    });
    printRepo(out, summary, args.grace ?? DEFAULT_GRACE);
    out.result({ command: 'prune', repo: storage.location, ...summary });
    return 0;
  } finally {
    await storage.close();
  }
}

function printRepo(out: Output, s: RepoPruneSummary, grace: string): void {
  const verb = s.dryRun ? 'would unpublish' : 'unpublished';
  for (const snap of s.snapshots) {
    out.line(
      `${verb} ${snap.source}/${snap.snapshot} (${why(snap.reason)}): ${snap.entries} files, ${formatSize(snap.bytes)}`,
    );
  }
  for (const name of s.alreadyPruned) out.line(`${name}: already removed by an earlier prune`);
  const d = s.deleted;
  const w = s.waiting;
  const unused = s.graceMs === 0 ? 'no published snapshot uses' : `unused for ${grace}`;
  if (d.blobs + d.documents > 0 || w.blobs + w.documents === 0) {
    out.line(
      `${s.dryRun ? 'would delete' : 'deleted'} ${formatSize(d.bytes)}: ${d.blobs} blobs and ${d.documents} snapshot documents ${unused}`,
    );
  }
  if (w.blobs + w.documents > 0) {
    out.line(
      `${s.dryRun ? 'would wait' : 'waiting'} for the grace period (${grace}): ${formatSize(w.bytes)} in ${w.blobs} blobs and ${w.documents} snapshot documents; the first are due at ${w.nextDueAt}, for a later prune`,
    );
  }
}

function why(reason: string): string {
  return reason === 'keep'
    ? 'beyond --keep'
    : reason === 'before'
      ? 'older than --before'
      : 'named';
}
