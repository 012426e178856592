/** `airlock verify`: check a bundle's signature, parts and every entry before import. */
import type { Argv } from 'yargs';
import { verifyBundle } from '../../bundle/verify.js';
import { formatSize } from '../../size.js';
import { describeRelease } from '../release-line.js';
import { Output, type Progress } from '../output.js';
import { runCommand } from '../run-command.js';

export interface VerifyArgs {
  manifest: string;
  trust?: string;
  json: boolean;
}

export function verifyCommand(y: Argv): Argv {
  return y.command<VerifyArgs>(
    'verify <manifest>',
    'verify a bundle: signature, every part and every entry (exit 4 on any failure)',
    (a) =>
      a
        .positional('manifest', {
          type: 'string',
          demandOption: true,
          describe: 'NAME.manifest.json',
        })
        .option('trust', {
          type: 'string',
          describe: 'public key (from airlock keygen): require a valid signature',
        })
        .option('json', {
          type: 'boolean',
          default: false,
          describe: 'print one JSON summary on stdout (and the error object on failure)',
        }) as unknown as Argv<VerifyArgs>,
    (args) => runCommand(({ signal }) => verify(args, signal)),
  );
}

export async function verify(args: VerifyArgs, signal: AbortSignal): Promise<number> {
  const out = new Output({ json: args.json });
  let bar: Progress | undefined;
  try {
    const summary = await verifyBundle(args.manifest, {
      signal,
      ...(args.trust ? { trust: args.trust } : {}),
      onEvent: (e) => {
        switch (e.type) {
          case 'opened':
            if (e.signature === 'unsigned')
              out.warn(
                'the bundle is unsigned: its origin is not proven (use --trust KEY with signed bundles)',
              );
            if (e.signature === 'unchecked')
              out.warn(
                'the bundle is signed but no --trust key was given: the signature was not checked',
              );
            if (e.signature === 'verified') out.info(`signature: verified, key ${e.signer}`);
            bar = out.progress(`verifying ${e.name}`, e.totalBytes);
            break;
          case 'progress':
            bar?.update(e.bytes, e.bytes);
            break;
          case 'part':
            if (!out.tty) out.info(`  part ${e.index}: ${e.name} ok`);
            break;
          case 'done':
            bar?.stop();
            break;
        }
      },
    });
    bar?.stop();
    for (const warning of summary.warnings) out.warn(warning);
    if (summary.blobsFromParent > 0)
      out.line(
        `${summary.blobsFromParent} blob(s) the index references come from the parent chain: import checks them against the repository`,
      );
    out.line(
      `verified ${summary.name}: ${summary.parts} part(s), ${formatSize(summary.bytes)}, ${summary.blobs} blobs, ` +
        `${summary.entries} entries, signature ${summary.signature}${summary.signer ? ` (key ${summary.signer})` : ''}`,
    );
    if (summary.release) out.line(describeRelease(summary.release));
    out.result({ command: 'verify', ok: true, ...summary });
    return 0;
  } finally {
    bar?.stop();
  }
}
