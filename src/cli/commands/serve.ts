/** `airlock serve`: the repository over HTTP, at the upstream's own URLs. */
import type { Argv } from 'yargs';
import { AirlockError } from '../../errors.js';
import { formatCommonLog, formatJsonLog } from '../../serve/access-log.js';
import { startServer } from '../../serve/server.js';
import { openRepo, repoOptions, type RepoArgs } from '../repo-options.js';
import { portOption, wholeNumberOption } from '../numeric-option.js';
import { runCommand } from '../run-command.js';

export interface ServeArgs extends RepoArgs {
  host: string;
  /** A string from the command line (checked by portOption), a number from demo. */
  port: number | string;
  'access-log': string;
  'refresh-ms': number | string;
}

export function serveCommand(y: Argv): Argv {
  return y.command<ServeArgs>(
    'serve',
    'serve a repository to pip and R with the upstream URLs (stop with SIGTERM or Ctrl-C)',
    (a) =>
      repoOptions(
        a
          .option('host', {
            type: 'string',
            default: '127.0.0.1',
            describe: 'address to listen on (0.0.0.0 for all)',
          })
          .option('port', {
            type: 'string',
            default: 4242,
            describe: 'port to listen on (0: any free port)',
          })
          .option('access-log', {
            type: 'string',
            default: 'common',
            choices: ['common', 'json', 'off'],
            describe:
              'access log on stdout, one line per request: common (Apache style), json (an object per line) or off',
          })
          .option('refresh-ms', {
            type: 'string',
            default: 2000,
            describe: 'how often to look for newly published snapshots',
          }),
      ) as unknown as Argv<ServeArgs>,
    (args) => runCommand(({ signal }) => serve(args, signal), { signalStops: true }),
  );
}

export async function serve(
  args: ServeArgs,
  signal: AbortSignal,
  onListening?: (url: string) => void,
): Promise<number> {
  const port = portOption(args.port);
  const refreshMs = wholeNumberOption(args['refresh-ms'], '--refresh-ms', {
    min: 1,
    expected: 'a whole number of milliseconds, at least 1',
  });
  const storage = await openRepo(args);
  const format =
    args['access-log'] === 'json'
      ? formatJsonLog
      : args['access-log'] === 'off'
        ? undefined
        : formatCommonLog;
  try {
    const server = await startServer({
      storage,
      host: args.host,
      port,
      refreshMs,
      ...(format ? { onRequest: (entry) => process.stdout.write(`${format(entry)}\n`) } : {}),
      onEvent: (e) => {
        if (e.type === 'published-changed')
          process.stderr.write(
            `airlock serve: published generation ${e.generation} (${e.snapshots} snapshots)\n`,
          );
        else if (e.type === 'published-unreadable')
          process.stderr.write(`airlock serve: warning: ${e.message}\n`);
        else process.stderr.write(`airlock serve: ${requestFailure(e.method, e.path, e.error)}\n`);
      },
    });
    process.stderr.write(
      `airlock serve: ${storage.location} at ${server.url}/ (healthz: ${server.url}/healthz)\n`,
    );
    onListening?.(server.url);
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await server.close();
    process.stderr.write('airlock serve: stopped\n');
    return 0;
  } finally {
    await storage.close();
  }
}

/**
 * One line per failed request: an expected failure (a missing blob, an unreadable storage)
 * says what failed and what to do; only a bug gets its stack, which is what a report needs.
 */
function requestFailure(method: string, path: string, error: Error): string {
  if (error instanceof AirlockError) {
    return `${method} ${path} failed: ${error.message}${error.hint ? ` (${error.hint})` : ''}`;
  }
  return `${method} ${path} failed (a bug: please report it): ${error.stack ?? error.message}`;
}
