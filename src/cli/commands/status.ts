/** `airlock status`: what a workspace or a repository holds. */
import type { Argv } from 'yargs';
import { UsageError } from '../../errors.js';
import { formatSize } from '../../size.js';
import { repoStatus } from '../../repo/status.js';
import { Workspace } from '../../workspace/workspace.js';
import { Output } from '../output.js';
import { eitherSideOptions, openRepo } from '../repo-options.js';
import { runCommand } from '../run-command.js';

interface StatusArgs {
  workspace?: string;
  repo?: string;
  's3-endpoint'?: string;
  json: boolean;
}

export function statusCommand(y: Argv): Argv {
  return y.command<StatusArgs>(
    'status',
    'list the sources, snapshots and bundles of a workspace (--workspace) or repository (--repo)',
    (a) =>
      eitherSideOptions(a).option('json', {
        type: 'boolean',
        default: false,
        describe: 'print one JSON summary on stdout (and the error object on failure)',
      }) as unknown as Argv<StatusArgs>,
    (args) =>
      runCommand(async () => {
        const out = new Output({ json: args.json });
        if (args.workspace) return workspaceStatus(out, args.workspace);
        if (args.repo) return repositoryStatus(out, { ...args, repo: args.repo });
        throw new UsageError('status needs --workspace DIR or --repo DIR|s3://...', {
          hint: 'say which side to describe',
        });
      }),
  );
}

function workspaceStatus(out: Output, dir: string): number {
  const ws = Workspace.open(dir);
  try {
    const snapshots = ws.listSnapshots();
    const bundles = ws.listBundles();
    for (const s of snapshots) {
      out.line(
        `${s.source}/${s.snapshot}  ${s.type}  ${s.entries} files  ${formatSize(s.bytes)}${s.complete ? '' : '  (incomplete)'}`,
      );
    }
    if (snapshots.length === 0) out.line('no snapshots yet: run airlock download');
    for (const b of bundles)
      out.line(`bundle ${b.id}  ${b.full ? 'full' : `delta of ${b.parent}`}  ${b.createdAt}`);
    out.result({ command: 'status', workspace: ws.dir, snapshots, bundles });
    return 0;
  } finally {
    ws.close();
  }
}

async function repositoryStatus(
  out: Output,
  args: { repo: string; 's3-endpoint'?: string },
): Promise<number> {
  const storage = await openRepo(args);
  try {
    const status = await repoStatus(storage);
    for (const source of status.sources) {
      out.line(
        `${source.name} (${source.type}) at /${source.servedTemplate}, latest ${source.latest ?? '-'}`,
      );
      for (const s of source.snapshots)
        out.line(
          `  ${s.id}  ${s.entries} files  ${formatSize(s.bytes)}  published ${s.publishedAt}  from ${s.bundle}`,
        );
    }
    if (status.sources.length === 0) out.line('no published snapshots yet');
    for (const b of status.bundles) {
      out.line(
        `bundle ${b.id}  ${b.full ? 'full' : `delta of ${b.parent}`}  imported ${b.importedAt}  signature ${b.signature}`,
      );
    }
    out.line(
      status.trust.open
        ? 'trusted signing keys: none (open: imports accept any bundle; airlock trust add KEY.pub)'
        : `trusted signing keys: ${status.trust.trustedKeys.join(', ') || 'none (every import refused without --allow-unsigned)'}`,
    );
    if (status.lock) out.line(`import lock held: ${JSON.stringify(status.lock)}`);
    const pending = status.pendingDeletion;
    if (pending.blobs + pending.documents > 0) {
      out.line(
        `pruned, waiting for the grace period: ${formatSize(pending.bytes)} in ${pending.blobs} blobs and ${pending.documents} snapshot documents (unreferenced since ${pending.oldestSince}); airlock prune deletes them`,
      );
    }
    out.result({ command: 'status', ...status });
    return 0;
  } finally {
    await storage.close();
  }
}
