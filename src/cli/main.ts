/** The airlock command line (DESIGN.md "Command line"): one file per command under commands/. */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { AIRLOCK_VERSION } from '../version.js';
import type { Argv } from 'yargs';

type AddCommand = (y: Argv) => Argv;

// Each command's module is loaded only when that command runs: loading them all (the AWS SDK,
// SQLite, undici) would add a third of a second to every cron run and every small transfer.
const COMMANDS: Record<string, () => Promise<AddCommand>> = {
  download: async () => (await import('./commands/download.js')).downloadCommand,
  bundle: async () => (await import('./commands/bundle.js')).bundleCommand,
  verify: async () => (await import('./commands/verify.js')).verifyCommand,
  import: async () => (await import('./commands/import.js')).importCommand,
  serve: async () => (await import('./commands/serve.js')).serveCommand,
  status: async () => (await import('./commands/status.js')).statusCommand,
  check: async () => (await import('./commands/check.js')).checkCommand,
  prune: async () => (await import('./commands/prune.js')).pruneCommand,
  keygen: async () => (await import('./commands/keygen.js')).keygenCommand,
  trust: async () => (await import('./commands/trust.js')).trustCommand,
  demo: async () => (await import('./commands/demo.js')).demoCommand,
};

const requested = process.argv[2];
const wanted =
  requested !== undefined && requested in COMMANDS ? [requested] : Object.keys(COMMANDS);
const commands = await Promise.all(wanted.map((name) => COMMANDS[name]!()));

// The AWS SDK warns on every run under Node 20 that its future releases will need Node 22;
// airlock pins a release that supports Node 20, and cron logs must stay quiet.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

let cli = yargs(hideBin(process.argv))
  .scriptName('airlock')
  .version(AIRLOCK_VERSION)
  .strict()
  .demandCommand(1, 'say which command to run (see airlock --help)')
  .recommendCommands()
  .wrap(Math.min(110, process.stdout.columns || 100))
  .fail((msg, err) => {
    if (err) throw err;
    process.stderr.write(
      `airlock: error: ${msg}\n  hint: see airlock --help, or airlock COMMAND --help\n`,
    );
    process.exit(2);
  });
for (const add of commands) cli = add(cli);
await cli.parseAsync();
