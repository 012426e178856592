/** The airlock command line (DESIGN.md "Command line"): one file per command under commands/. */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { AIRLOCK_VERSION } from '../version.js';
import { bundleCommand } from './commands/bundle.js';
import { checkCommand } from './commands/check.js';
import { demoCommand } from './commands/demo.js';
import { importCommand } from './commands/import.js';
import { serveCommand } from './commands/serve.js';
import { statusCommand } from './commands/status.js';
import { downloadCommand } from './commands/download.js';
import { keygenCommand } from './commands/keygen.js';
import { verifyCommand } from './commands/verify.js';

const commands = [
  downloadCommand,
  bundleCommand,
  verifyCommand,
  importCommand,
  serveCommand,
  statusCommand,
  checkCommand,
  keygenCommand,
  demoCommand,
];

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
