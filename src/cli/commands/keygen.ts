/** `airlock keygen`: an Ed25519 key pair for signing bundles. */
import type { Argv } from 'yargs';
import { generateKeyPairFiles } from '../../bundle/keygen.js';
import { Output } from '../output.js';
import { runCommand } from '../run-command.js';

interface KeygenArgs {
  out: string;
  json: boolean;
}

export function keygenCommand(y: Argv): Argv {
  return y.command<KeygenArgs>(
    'keygen',
    'write an Ed25519 key pair: PREFIX.key (private, mode 0600) and PREFIX.pub',
    (a) =>
      a
        .option('out', {
          type: 'string',
          demandOption: true,
          describe: 'path prefix of the key files',
        })
        .option('json', { type: 'boolean', default: false }) as unknown as Argv<KeygenArgs>,
    (args) =>
      runCommand(async () => {
        const out = new Output({ json: args.json });
        const keys = await generateKeyPairFiles(args.out);
        out.line(`private key: ${keys.privateKeyPath} (keep it on the connected side, mode 0600)`);
        out.line(
          `public key:  ${keys.publicKeyPath} (carry it to the disconnected side for --trust)`,
        );
        out.line(
          `fingerprint: ${keys.fingerprint} (read it to the far side's operator; they compare it with \`airlock trust fingerprint\`)`,
        );
        out.result({ command: 'keygen', ...keys });
      }),
  );
}
