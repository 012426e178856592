/** `airlock serve`: the repository over HTTP, at the upstream's own URLs. */
import type { Argv } from 'yargs';
import { UsageError } from '../../errors.js';
import { formatCommonLog, formatJsonLog } from '../../serve/access-log.js';
import { ServeMetrics, startMetricsServer, type MetricsServer } from '../../serve/metrics.js';
import { SERVE_LIMITS, startServer } from '../../serve/server.js';
import { openRepo, repoOptions, type RepoArgs } from '../repo-options.js';
import { runCommand } from '../run-command.js';

export interface ServeArgs extends RepoArgs {
  host: string;
  port: number;
  'access-log': string;
  'refresh-ms': number;
  'metrics-port'?: number;
  'metrics-host'?: string;
  'max-connections'?: number;
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
            type: 'number',
            default: 4242,
            describe: 'port to listen on (0: any free port)',
          })
          .option('access-log', {
            type: 'string',
            default: 'common',
            choices: ['common', 'json', 'off'],
            describe: 'access log on stdout',
          })
          .option('refresh-ms', {
            type: 'number',
            default: 2000,
            describe: 'how often to look for newly published snapshots',
          })
          .option('metrics-port', {
            type: 'number',
            describe:
              'serve Prometheus metrics at /metrics on this port (off by default; 0: any free port)',
          })
          .option('metrics-host', {
            type: 'string',
            describe: 'address for the metrics port (default: the --host address)',
          })
          .option('max-connections', {
            type: 'number',
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
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) {
    throw new UsageError(`--port ${args.port}: not a port number`, {
      hint: 'give 1-65535, or 0 for any free port',
    });
  }
  const metricsPort = args['metrics-port'];
  if (
    metricsPort !== undefined &&
    (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535)
  ) {
    throw new UsageError(`--metrics-port ${metricsPort}: not a port number`, {
      hint: 'give 1-65535, or 0 for any free port; leave it out for no metrics',
    });
  }
  const maxConnections = args['max-connections'] ?? SERVE_LIMITS.maxConnections;
  if (!Number.isInteger(maxConnections) || maxConnections < 1) {
    throw new UsageError(`--max-connections ${maxConnections}: not a positive whole number`, {
      hint: `give how many connections may be open at once (default ${SERVE_LIMITS.maxConnections})`,
    });
  }
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
      port: args.port,
      refreshMs: args['refresh-ms'],
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
        else
          process.stderr.write(
            `airlock serve: ${e.method} ${e.path} failed: ${e.error.stack ?? e.error.message}\n`,
          );
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
