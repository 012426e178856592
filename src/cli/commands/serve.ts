/** `airlock serve`: the repository over HTTP, at the upstream's own URLs. */
import type { Argv } from 'yargs';
import { AirlockError } from '../../errors.js';
import { formatCommonLog, formatJsonLog } from '../../serve/access-log.js';
import { ServeMetrics, startMetricsServer, type MetricsServer } from '../../serve/metrics.js';
import { SERVE_LIMITS, startServer } from '../../serve/server.js';
import { openRepo, repoOptions, type RepoArgs } from '../repo-options.js';
import { portOption, wholeNumberOption } from '../numeric-option.js';
import { runCommand } from '../run-command.js';

export interface ServeArgs extends RepoArgs {
  host: string;
  /** A string from the command line (checked by portOption), a number from demo. */
  port: number | string;
  'access-log': string;
  'refresh-ms': number | string;
  'metrics-port'?: number | string;
  'metrics-host'?: string;
  'max-connections'?: number | string;
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
          })
          .option('metrics-port', {
            type: 'string',
            describe:
              'serve Prometheus metrics at /metrics on this port (off by default; 0: any free port)',
          })
          .option('metrics-host', {
            type: 'string',
            describe: 'address for the metrics port (default: the --host address)',
          })
          .option('max-connections', {
            type: 'string',
            default: SERVE_LIMITS.maxConnections,
            describe: 'connections open at once; more are closed as they arrive',
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
  const metricsPort =
    args['metrics-port'] === undefined
      ? undefined
      : portOption(args['metrics-port'], '--metrics-port');
  const maxConnections = wholeNumberOption(
    args['max-connections'] ?? SERVE_LIMITS.maxConnections,
    '--max-connections',
    {
      min: 1,
      expected: `how many connections may be open at once (default ${SERVE_LIMITS.maxConnections})`,
    },
  );
  const storage = await openRepo(args);
  const format =
    args['access-log'] === 'json'
      ? formatJsonLog
      : args['access-log'] === 'off'
        ? undefined
        : formatCommonLog;
  const metrics = metricsPort === undefined ? undefined : new ServeMetrics();
  let metricsServer: MetricsServer | undefined;
  try {
    const server = await startServer({
      storage,
      host: args.host,
      port,
      refreshMs,
      limits: { maxConnections },
      ...(metrics ? { metrics } : {}),
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
    if (metrics) {
      try {
        metricsServer = await startMetricsServer(
          metrics,
          args['metrics-host'] ?? args.host,
          metricsPort!,
        );
      } catch (err) {
        await server.close();
        throw err;
      }
      process.stderr.write(`airlock serve: metrics at ${metricsServer.url}\n`);
    }
    onListening?.(server.url);
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await Promise.all([server.close(), metricsServer?.close()]);
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
