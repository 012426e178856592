/**
 * The one place that turns outcomes into exit codes and messages (DESIGN.md): typed errors
 * print their message and hint; anything else is a bug and prints its stack.
 */
import { setMaxListeners } from 'node:events';
import { AirlockError, redactSecrets } from '../errors.js';
import { jsonError, jsonRequested, printJsonError } from './json-error.js';

export interface CommandContext {
  /** Aborted on the first SIGINT/SIGTERM; commands stop cleanly and keep what is done. */
  signal: AbortSignal;
}

/** Exit codes for a run stopped by a signal, as shells report them (128 + signal number). */
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

export interface RunOptions {
  /** A signal is how this command is meant to stop (serve): exit with the body's code. */
  signalStops?: boolean;
}

export async function runCommand(
  body: (ctx: CommandContext) => Promise<number | void>,
  opts: RunOptions = {},
): Promise<never> {
  const controller = new AbortController();
  // Every request in flight listens on this one signal: at --concurrency 64 that is 64
  // listeners, not a leak. The bound still catches a real leak (listeners never removed).
  setMaxListeners(4096, controller.signal);
  let stoppedBy: string | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stoppedBy) {
      process.stderr.write(`airlock: ${sig} again: exiting now\n`);
      process.exit(SIGNAL_EXIT[sig] ?? 1);
    }
    stoppedBy = sig;
    process.stderr.write(`airlock: ${sig}: stopping after what is in flight (again to exit now)\n`);
    controller.abort(new Error(`stopped by ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let code: number;
  try {
    code = (await body({ signal: controller.signal })) ?? 0;
    if (stoppedBy && !opts.signalStops) code = SIGNAL_EXIT[stoppedBy] ?? 1;
  } catch (err) {
    code = reportError(err, stoppedBy);
  }
  process.exitCode = code;
  // Let stdout drain before leaving (JSON summaries piped to another program).
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}

export function reportError(err: unknown, stoppedBy?: string): number {
  const json = jsonRequested();
  if (stoppedBy && !(err instanceof AirlockError)) {
    const message = `stopped by ${stoppedBy}; run the same command again to finish`;
    process.stderr.write(`airlock: ${message}\n`);
    const code = SIGNAL_EXIT[stoppedBy] ?? 1;
    if (json) printJsonError(jsonError(err, code, { code: 'EINTERRUPTED', message }));
    return code;
  }
  if (err instanceof AirlockError) {
    process.stderr.write(`airlock: error: ${err.message}\n`);
    if (err.hint) process.stderr.write(`  hint: ${err.hint}\n`);
    if (json) printJsonError(jsonError(err, err.exitCode));
    return err.exitCode;
  }
  const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(
    `airlock: internal error (a bug: please report it with this output):\n${redactSecrets(text)}\n`,
  );
  if (json) {
    printJsonError(
      jsonError(err, 1, {
        code: 'EINTERNAL',
        hint: 'a bug: please report it with the stderr output',
      }),
    );
  }
  return 1;
}
