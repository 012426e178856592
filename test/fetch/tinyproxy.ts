/**
 * A real tinyproxy (Debian package) for proxy tests, on a free loopback port, logging every
 * request it forwards so tests can prove which requests went through it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TINYPROXY = '/usr/bin/tinyproxy';
export const haveTinyproxy = existsSync(TINYPROXY);

export interface Tinyproxy {
  /** http://127.0.0.1:PORT (no credentials) */
  url: string;
  port: number;
  log(): Promise<string>;
  stop(): Promise<void>;
}

export async function startTinyproxy(
  opts: { basicAuth?: [string, string]; denyAll?: boolean } = {},
): Promise<Tinyproxy> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-tinyproxy-'));
  const port = await freePort();
  const logFile = join(dir, 'tinyproxy.log');
  const lines = [
    `Port ${port}`,
    'Listen 127.0.0.1',
    // A deny rule for the only client: tinyproxy answers every request with its own 403.
    opts.denyAll ? 'Deny 127.0.0.1' : 'Allow 127.0.0.1',
    'MaxClients 100',
    'LogLevel Info',
    `LogFile "${logFile}"`,
    'Timeout 30',
  ];
  if (opts.basicAuth) lines.push(`BasicAuth ${opts.basicAuth[0]} ${opts.basicAuth[1]}`);
  const conf = join(dir, 'tinyproxy.conf');
  await writeFile(conf, lines.join('\n') + '\n');
  const child = spawn(TINYPROXY, ['-d', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    await waitForPort(port, child, () => stderr);
  } catch (error) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    log: () => readFile(logFile, 'utf8').catch(() => ''),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// tinyproxy cannot listen on port 0: borrow a free port from the kernel and hand it over.
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForPort(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`tinyproxy exited: ${stderr()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`tinyproxy did not listen on ${port}: ${stderr()}`);
}
