/** `airlock bundle`: write a checksummed, optionally signed, size-limited bundle. */
import type { Argv } from 'yargs';
import { UsageError } from '../../errors.js';
import { parseSize } from '../../bundle/size.js';
import { writeBundle } from '../../bundle/write.js';
import { formatSize } from '../../size.js';
import { AIRLOCK_VERSION } from '../../version.js';
import { Workspace } from '../../workspace/workspace.js';
import { Output, type Progress } from '../output.js';
import { runCommand } from '../run-command.js';

export interface BundleArgs {
  workspace: string;
  out: string;
  full: boolean;
  since?: string;
  'max-part-size'?: string;
  'sign-key'?: string;
  'with-release'?: string;
  source?: string[];
  snapshot?: string;
  json: boolean;
}

export function bundleCommand(y: Argv): Argv {
  return y.command<BundleArgs>(
    'bundle',
    'write a bundle (tar parts + manifest + SHA256SUMS [+ signature]) of the workspace',
    (a) =>
      a
        .option('workspace', {
          type: 'string',
          demandOption: true,
          describe: 'workspace directory',
        })
        .option('out', {
          type: 'string',
          demandOption: true,
          describe: 'directory to write the bundle into (created if missing)',
        })
        .option('full', {
          type: 'boolean',
          default: false,
          describe: 'carry every blob (default: only what no earlier bundle carried)',
        })
        .option('since', {
          type: 'string',
          // Not yargs' conflicts('full', 'since'): it counts --full's default as given, so
          // --since was always refused. The bundle plan refuses --full with --since itself.
          describe: 'bundle id to make a delta against (default: the last bundle)',
        })
        .option('max-part-size', {
          type: 'string',
          describe: 'largest part: 4G, 700M, 4.7GB, or bytes',
        })
        .option('sign-key', {
          type: 'string',
          describe: 'Ed25519 private key (from airlock keygen) to sign the manifest',
        })
        .option('with-release', {
          type: 'string',
          describe:
            'airlock release tarball (npm run release) to carry beside the parts, in the signed manifest',
        })
        .option('source', {
          type: 'string',
          array: true,
          describe: 'only this source (repeatable)',
        })
        .option('snapshot', { type: 'string', describe: 'only this snapshot id' })
        .option('json', {
          type: 'boolean',
          default: false,
          describe: 'print one JSON summary on stdout (and the error object on failure)',
        }) as unknown as Argv<BundleArgs>,
    (args) => runCommand(({ signal }) => bundle(args, signal)),
  );
}

export async function bundle(args: BundleArgs, signal: AbortSignal): Promise<number> {
  const out = new Output({ json: args.json });
  const maxPartSize =
    args['max-part-size'] === undefined ? undefined : parseSize(args['max-part-size']);
  if (args.snapshot !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(args.snapshot)) {
    throw new UsageError(`--snapshot ${args.snapshot}: not a snapshot id`, {
      hint: 'write the recorded date, YYYY-MM-DD (airlock status --workspace lists them)',
    });
  }
  const workspace = Workspace.open(args.workspace, { lockFor: 'airlock bundle' });
  let bar: Progress | undefined;
  try {
    const result = await writeBundle({
      workspace,
      outDir: args.out,
      full: args.full,
      airlockVersion: AIRLOCK_VERSION,
      signal,
      ...(maxPartSize === undefined ? {} : { maxPartSize }),
      ...(args['sign-key'] ? { signKeyPath: args['sign-key'] } : {}),
      ...(args['with-release'] ? { withRelease: args['with-release'] } : {}),
      ...(args.since ? { since: args.since } : {}),
      ...(args.source ? { sources: args.source } : {}),
      ...(args.snapshot ? { snapshot: args.snapshot } : {}),
      onEvent: (e) => {
        switch (e.type) {
          case 'plan':
            out.info(
              `bundle: ${e.full ? 'full' : `delta of ${e.parent}`}, ${e.snapshots.map((s) => `${s.source}/${s.snapshot}`).join(', ')}; ` +
                `${e.blobs} blobs${e.blobsSkipped ? ` (${e.blobsSkipped} carried earlier)` : ''}`,
            );
            break;
          case 'start':
            bar = out.progress(`writing ${e.name}`, e.totalBytes);
            break;
          case 'progress':
            bar?.update(e.bytes, e.bytes);
            break;
          case 'part':
            out.info(`  ${e.name}  ${formatSize(e.size)}  sha256 ${e.sha256}`);
            break;
          case 'done':
            bar?.stop();
            break;
        }
      },
    });
    bar?.stop();
    if ('nothingNew' in result) {
      out.line(`bundle: nothing new to carry (${result.reason}); nothing written`);
      if (args['with-release'])
        out.warn(
          'the release was not carried: it travels with a bundle (re-carry a snapshot with --snapshot ID, or use --full)',
        );
      out.result({ command: 'bundle', nothingNew: true, reason: result.reason });
      return 0;
    }
    out.line(
      `bundle ${result.id}: ${result.parts.length} part(s), ${formatSize(result.totalBytes)}, ${result.blobCount} blobs, ` +
        `${result.entryCount} entries${result.signed ? ', signed' : ', unsigned'} -> ${result.manifestPath}`,
    );
    if (result.release)
      out.line(`  carries ${result.release.name} (airlock ${result.release.version})`);
    out.result({ command: 'bundle', ...result });
    return 0;
  } finally {
    bar?.stop();
    workspace.close();
  }
}
