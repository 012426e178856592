/** `airlock check`: prove a repository consistent (exit 4 when not). */
import type { Argv } from 'yargs';
import { ExitCode } from '../../errors.js';
import { formatSize } from '../../size.js';
import { checkRepo } from '../../repo/check.js';
import { Output, type Progress } from '../output.js';
import { openRepo, repoOptions, type RepoArgs } from '../repo-options.js';
import { runCommand } from '../run-command.js';

interface CheckArgs extends RepoArgs {
  deep: boolean;
  json: boolean;
}

export function checkCommand(y: Argv): Argv {
  return y.command<CheckArgs>(
    'check',
    'check that every file a published snapshot references exists (--deep: and hashes right); names the bundles whose import --repair fixes what is not',
    (a) =>
      repoOptions(
        a
          .option('deep', {
            type: 'boolean',
            default: false,
            describe: 're-hash every referenced blob',
          })
          .option('json', {
            type: 'boolean',
            default: false,
            describe: 'print one JSON summary on stdout (and the error object on failure)',
          }),
      ) as unknown as Argv<CheckArgs>,
    (args) =>
      runCommand(async () => {
        const out = new Output({ json: args.json });
        const storage = await openRepo(args);
        let bar: Progress | undefined;
        try {
          const summary = await checkRepo(storage, {
            deep: args.deep,
            onEvent: (e) => {
              if (e.type === 'check-blob') {
                bar ??= out.progress(args.deep ? 'hashing' : 'checking', e.total);
                bar.update(e.checked, e.bytes);
              } else if (e.type === 'check-problem') {
                out.warn(
                  `${e.problem.kind}: ${e.problem.key}: ${e.problem.detail}${e.problem.snapshot ? ` (${e.problem.snapshot})` : ''}`,
                );
              }
            },
          });
          bar?.stop();
          if (summary.ok) {
            out.line(
              `ok: ${summary.snapshots} snapshot(s), ${summary.checkedBlobs} blobs, ${formatSize(summary.checkedBytes)}${args.deep ? ' re-hashed' : ''}`,
            );
          } else {
            out.line(`NOT consistent: ${summary.problems.length} problem(s). To repair:`);
            for (const r of summary.repairs) {
              out.line(
                `  airlock import /path/to/${r.manifest} --repo ${args.repo} --repair   # bundle ${r.bundle}: ${r.blobs} blob(s), ${r.documents} document(s)`,
              );
            }
            if (summary.unattributed > 0) {
              out.line(
                `  ${summary.unattributed} problem(s) belong to no imported bundle's record: re-import the bundle that carried them with --repair, or a full bundle of their snapshots`,
              );
            }
            out.line(
              `then run airlock check --repo ${args.repo}${args.deep ? ' --deep' : ''} again`,
            );
          }
          out.result({ command: 'check', deep: args.deep, ...summary });
          return summary.ok ? ExitCode.ok : ExitCode.integrity;
        } finally {
          bar?.stop();
          await storage.close();
        }
      }),
  );
}
