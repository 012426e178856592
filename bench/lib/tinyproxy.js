/** A throwaway tinyproxy (Debian's) on a free loopback port, for the "through a proxy" runs. */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort, waitFor } from './measure.js';

export async function startTinyproxy(binary, dir) {
  const port = await freePort();
  const conf = join(dir, 'tinyproxy.conf');
  // MaxClients above the highest --concurrency; no Via header, no log noise on the hot path.
  await writeFile(
    conf,
    [
      `Port ${port}`,
      'Listen 127.0.0.1',
      'Timeout 600',
      'MaxClients 256',
      'Allow 127.0.0.1',
      'LogLevel Error',
      'DisableViaHeader Yes',
      '',
    ].join('\n'),
  );
  const child = spawn(binary, ['-d', '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await waitFor(`tinyproxy on port ${port} (${stderr.trim()})`, () => canConnect(port));
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
