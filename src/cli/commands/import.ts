/** `airlock import`: verify a bundle while loading it into a repository, then publish. */
import type { Argv } from 'yargs';
import { formatSize } from '../../size.js';
import { refuseDirectoryAsManifest } from '../../bundle/manifest-path.js';
import { importBundle } from '../../repo/import.js';
import { IMPORT_LOCK_KEY } from '../../repo/layout.js';
import { Output, type Progress } from '../output.js';
import { openRepo, repoOptions, type RepoArgs } from '../repo-options.js';
import { describeRelease } from '../release-line.js';
import { runCommand } from '../run-command.js';

export interface ImportArgs extends RepoArgs {
  manifest: string;
  trust?: string;
  'allow-unsigned'?: boolean;
  repair?: boolean;
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
          .option('trust', {
            type: 'string',
            describe:
              "public key: require a valid signature by it (the first import records it as the repository's trusted key; later it must be one: see airlock trust)",
          })
          .option('allow-unsigned', {
            type: 'boolean',
            default: false,
            describe:
              'import a bundle that is unsigned or signed by a key the repository does not trust (the only way past its trusted keys)',
          })
          .option('repair', {
            type: 'boolean',
            default: false,
            describe:
              'for a bundle already imported: re-check the repository copies of its blobs and documents and rewrite the missing or damaged ones (see airlock check)',
          })
          .option('wait', {
            type: 'boolean',
            default: false,
            describe: 'wait for another import to finish instead of failing',
          })
          .option('json', {
            type: 'boolean',
            default: false,
            describe: 'print one JSON summary on stdout (and the error object on failure)',
          }),
      ) as unknown as Argv<ImportArgs>,
    (args) => runCommand(({ signal }) => runImport(args, signal)),
  );
}

export async function runImport(args: ImportArgs, signal: AbortSignal): Promise<number> {
  const out = new Output({ json: args.json });
  // Before the repository is opened (and its directory made): a directory given as MANIFEST.
  await refuseDirectoryAsManifest(args.manifest);
  const storage = await openRepo(args, { create: true });
  let bar: Progress | undefined;
  let waitingFor: string | undefined;
  try {
    const result = await importBundle({
      manifestPath: args.manifest,
      storage,
      wait: args.wait,
      signal,
      ...(args.trust ? { trust: args.trust } : {}),
      allowUnsigned: args['allow-unsigned'] === true,
      repair: args.repair === true,
      onEvent: (e) => {
        switch (e.type) {
          case 'trust':
            if (e.open)
              out.warn(
                `${storage.location} trusts no signing key: it accepts any bundle, signed or not. Record the producer's key: airlock trust add KEY.pub --repo ${args.repo}`,
              );
            if (e.recorded) out.line(`trusted key recorded for ${storage.location}: ${e.recorded}`);
            if (e.signer) out.info(`signature: verified, key ${e.signer}`);
            if (e.allowedUnsigned)
              out.warn(
                'the bundle is not signed by a key this repository trusts: imported only because of --allow-unsigned',
              );
            break;
          case 'bundle':
            if (e.signature === 'unsigned')
              out.warn('importing an unsigned bundle: its origin is not proven');
            if (e.signature === 'unchecked')
              out.warn(
                'the bundle is signed, but by no key this repository trusts: the signature was not checked',
              );
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
          case 'repair-blob':
          case 'repair-document':
            out.info(
              `  rewrote ${e.type === 'repair-blob' ? 'blob' : 'snapshot document'} ${e.sha256} (${e.damage === 'missing' ? 'missing' : e.damage === 'size' ? 'wrong size' : 'bytes changed'})`,
            );
            break;
          case 'published':
            out.info(`published (generation ${e.generation})`);
            break;
          case 'lock-wait': {
            // Said once per holder (the lock is polled every few seconds), on stderr so a
            // --json stdout stays one object.
            const who = `${e.holder.owner}@${e.holder.host}:${e.holder.pid}`;
            if (who !== waitingFor) {
              waitingFor = who;
              process.stderr.write(
                `airlock import: waiting for the import lock ${storage.location}/${IMPORT_LOCK_KEY}: ` +
                  `held by pid ${e.holder.pid} on ${e.holder.host} since ${e.holder.createdAt} ` +
                  `(expires ${e.holder.expiresAt} unless renewed); Ctrl-C to stop waiting\n`,
              );
            }
            break;
          }
          case 'lock-takeover':
            out.warn(`took over the import lock of ${storage.location}: ${e.reason}`);
            break;
          default:
            break;
        }
      },
    });
    bar?.stop();
    for (const warning of result.warnings) out.warn(warning);
    if (result.repaired) {
      const rewritten = result.blobsRewritten.length + result.documentsRewritten.length;
      out.line(
        rewritten === 0
          ? `repair of ${storage.location} from ${result.id}: its ${result.blobsChecked} blobs and ${result.documentsChecked} documents are intact: nothing to do`
          : `repaired ${storage.location} from ${result.id}: rewrote ${result.blobsRewritten.length} of ${result.blobsChecked} blobs and ${result.documentsRewritten.length} of ${result.documentsChecked} documents; run airlock check again`,
      );
      out.result({ command: 'import', repo: storage.location, ...result });
      return 0;
    }
    if (result.alreadyImported) {
      out.line(
        `bundle ${result.id} was already imported on ${result.importedAt}: nothing to do (if \`airlock check\` named it, add --repair)`,
      );
      out.result({ command: 'import', ...result });
      return 0;
    }
    out.line(
      `imported ${result.id} into ${storage.location}: ${result.blobsStored} blobs stored (${formatSize(result.bytesStored)}), ` +
        `${result.blobsPresent} already present; ${result.snapshots.map((s) => `${s.source}/${s.snapshot}`).join(', ')} published; ` +
        `signature ${result.signature}${result.trust.signer ? ` (key ${result.trust.signer})` : ''}`,
    );
    if (result.release) out.line(describeRelease(result.release));
    out.result({ command: 'import', repo: storage.location, ...result });
    return 0;
  } finally {
    bar?.stop();
    await storage.close();
  }
}
