/** `airlock import`: verify a bundle while loading it into a repository, then publish. */
import type { Argv } from 'yargs';
import { formatSize } from '../../size.js';
import { importBundle } from '../../repo/import.js';
import { Output, type Progress } from '../output.js';
import { openRepo, repoOptions, type RepoArgs } from '../repo-options.js';
import { runCommand } from '../run-command.js';

export interface ImportArgs extends RepoArgs {
  manifest: string;
  trust?: string;
  wait: boolean;
  json: boolean;
}

export function importCommand(y: Argv): Argv {
  return y.command<ImportArgs>(
    'import <manifest>',
    'verify a bundle and load it into a repository (directory or S3); publishes atomically',
    (a) =>
      repoOptions(
        a
          .positional('manifest', {
            type: 'string',
            demandOption: true,
            describe: 'NAME.manifest.json',
          })
          .option('trust', { type: 'string', describe: 'public key: require a valid signature' })
          .option('wait', {
            type: 'boolean',
            default: false,
            describe: 'wait for another import to finish instead of failing',
          })
          .option('json', {
            type: 'boolean',
            default: false,
            describe: 'print one JSON summary on stdout',
          }),
      ) as unknown as Argv<ImportArgs>,
    (args) => runCommand(({ signal }) => runImport(args, signal)),
  );
}

export async function runImport(args: ImportArgs, signal: AbortSignal): Promise<number> {
  const out = new Output({ json: args.json });
  const storage = await openRepo(args, { create: true });
  let bar: Progress | undefined;
  try {
    const result = await importBundle({
      manifestPath: args.manifest,
      storage,
      wait: args.wait,
      signal,
      ...(args.trust ? { trust: args.trust } : {}),
      onEvent: (e) => {
        switch (e.type) {
          case 'bundle':
            if (e.signature === 'unsigned')
              out.warn('importing an unsigned bundle: its origin is not proven (use --trust KEY)');
            out.info(
              `import ${e.id}: ${e.full ? 'full' : `delta of ${e.parent}`}, ${formatSize(e.totalBytes)}, signature ${e.signature}`,
            );
            bar = out.progress('importing', e.totalBytes);
            break;
          case 'progress':
            bar?.update(e.bytesRead, e.bytesRead);
            break;
          case 'lock-unconditional':
            out.warn(
              `${e.location} ignores conditional writes (${e.reason}): the import lock falls back to read-check-write, so two imports started at the same moment could both run`,
            );
            break;
          case 'cleanup':
            out.info(`removed ${e.removed} leftover(s) of an interrupted import`);
            break;
          case 'snapshot-document':
            bar?.stop();
            out.info(`  ${e.source}/${e.snapshot}: ${e.entries} files, ${formatSize(e.bytes)}`);
            break;
          case 'published':
            out.info(`published (generation ${e.generation})`);
            break;
          default:
            break;
        }
      },
    });
    bar?.stop();
    if (result.alreadyImported) {
      out.line(`bundle ${result.id} was already imported on ${result.importedAt}: nothing to do`);
      out.result({ command: 'import', ...result });
      return 0;
    }
    out.line(
      `imported ${result.id} into ${storage.location}: ${result.blobsStored} blobs stored (${formatSize(result.bytesStored)}), ` +
        `${result.blobsPresent} already present; ${result.snapshots.map((s) => `${s.source}/${s.snapshot}`).join(', ')} published`,
    );
    out.result({ command: 'import', repo: storage.location, ...result });
    return 0;
  } finally {
    bar?.stop();
    await storage.close();
  }
}
