/**
 * Serve: `wrk` on a PyPI project page and on a 1 MiB file from `airlock serve`, then on the
 * same bytes served statically by nginx (Debian's nginx-light, sendfile on).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { startAirlock } from './airlock.js';
import { SNAPSHOT } from './data.js';
import { ensureRepo } from './import.js';
import { fresh, freePort, waitFor } from './measure.js';
import { run, start } from './tools.js';

const WRK = { threads: 2, seconds: 10, warmUpSeconds: 2 };
const ONE_MIB = 1024 * 1024;

export async function benchServe(ctx) {
  if (!ctx.tools.wrk) {
    ctx.results.note('serve', 'skipped: install wrk (apt-get install wrk)');
    return;
  }
  const repo = await ensureRepo(ctx);
  const targets = await findTargets(ctx, repo);
  const root = await fresh(join(ctx.workDir, 'nginx-root'));
  for (const t of targets) {
    await mkdir(dirname(join(root, t.diskPath)), { recursive: true });
    await writeFile(join(root, t.diskPath), t.body);
  }
  for (const t of targets) {
    const conns =
      ctx.opts.serveConnections === 50 ? '' : `, ${ctx.opts.serveConnections} connections`;
    const caseName = `${t.label} (${(t.body.length / 1024).toFixed(0)} KiB${conns})`;
    ctx.log(
      `serve: ${caseName}: wrk -t${WRK.threads} -c${ctx.opts.serveConnections} -d${WRK.seconds}s`,
    );
    const servers = [['airlock', () => startAirlockServer(ctx, repo)]];
    if (ctx.tools.nginx) servers.push(['nginx', () => startNginx(ctx, root)]);
    else if (!ctx.opts.airlockOnly)
      ctx.results.note('serve', 'nginx skipped: install nginx (apt-get install nginx-light)');
    for (const [tool, startServer] of servers) {
      const server = await startServer();
      let load;
      try {
        await wrk(ctx, `${server.url}${t.path}`, WRK.warmUpSeconds);
        load = await wrk(ctx, `${server.url}${t.path}`, WRK.seconds);
      } finally {
        server.usage = await server.stop();
      }
      ctx.results.add({
        stage: 'serve',
        case: caseName,
        set: t.kind,
        tool,
        files: load.requests,
        bytes: load.bytes,
        seconds: load.seconds,
        requestsPerSec: load.requestsPerSec,
        cpuSeconds: server.usage.cpuSeconds,
        peakRssMB: server.usage.peakRssMB,
      });
    }
  }
}

/** The page and the file, with the bytes airlock serves, to hand the same bytes to nginx. */
async function findTargets(ctx, repo) {
  const server = await startAirlockServer(ctx, repo);
  try {
    const pagePath = `/pypi/${SNAPSHOT}/simple/bulk/`;
    const page = await get(`${server.url}${pagePath}`, '*/*');
    const json = JSON.parse(
      (await get(`${server.url}${pagePath}`, 'application/vnd.pypi.simple.v1+json')).toString(),
    );
    const wanted = ctx.sets.large.files.find((f) => f.size === ONE_MIB);
    const link = json.files.find((f) => f.filename === wanted.filename);
    const fileUrl = new URL(link.url, `${server.url}${pagePath}`);
    const body = await get(fileUrl.href, '*/*');
    if (body.length !== ONE_MIB) throw new Error(`${fileUrl} served ${body.length} bytes`);
    return [
      {
        kind: 'page',
        label: 'project page',
        path: pagePath,
        diskPath: `${pagePath}index.html`,
        body: page,
      },
      { kind: 'file', label: 'file', path: fileUrl.pathname, diskPath: fileUrl.pathname, body },
    ];
  } finally {
    await server.stop();
  }
}

async function get(url, accept) {
  const res = await fetch(url, { headers: { accept } });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

async function startAirlockServer(ctx, repo) {
  const port = await freePort();
  // No access log, as nginx below: both measure serving, not logging.
  const args = [
    'serve',
    '--repo',
    repo,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--access-log',
    'off',
  ];
  const handle = startAirlock(args, { timeDir: ctx.workDir, stdout: 'ignore' });
  return serverOf(handle, port, 'SIGTERM');
}

async function startNginx(ctx, root) {
  const port = await freePort();
  const prefix = await fresh(join(ctx.workDir, 'nginx'));
  const conf = join(prefix, 'nginx.conf');
  // Debian's defaults where they matter (sendfile, worker per core); everything else local.
  const user = process.getuid?.() === 0 ? 'user root;' : '';
  await writeFile(
    conf,
    `${user}
daemon off;
worker_processes auto;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  types { text/html html; }
  default_type application/octet-stream;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  server { listen 127.0.0.1:${port}; root ${root}; index index.html; }
}
`,
  );
  const handle = start(
    ctx.tools.nginx,
    ['-c', conf, '-p', prefix, '-e', join(prefix, 'error.log')],
    {
      timeDir: ctx.workDir,
    },
  );
  return serverOf(handle, port, 'SIGTERM');
}

async function serverOf(handle, port, stopSignal) {
  const url = `http://127.0.0.1:${port}`;
  let exited = false;
  handle.done.finally(() => (exited = true));
  await waitFor(`a server on ${url}`, async () => {
    if (exited) throw new Error(`the server on ${url} exited:\n${(await handle.done).stderr}`);
    await fetch(`${url}/`);
    return true;
  });
  return {
    url,
    stop: async () => {
      process.kill(await handle.pid, stopSignal);
      return handle.done;
    },
  };
}

async function wrk(ctx, url, seconds) {
  const args = [`-t${WRK.threads}`, `-c${ctx.opts.serveConnections}`, `-d${seconds}s`, url];
  const { stdout } = await run(ctx.tools.wrk, args, { stdout: 'capture', timeDir: ctx.workDir });
  const summary = /(\d+) requests in ([\d.]+)(m?s), ([\d.]+)([KMGT]?B) read/.exec(stdout);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  if (!summary || !rps) throw new Error(`cannot read wrk's output:\n${stdout}`);
  if (/Non-2xx or 3xx responses/.test(stdout))
    throw new Error(`${url} answered errors under load:\n${stdout}`);
  const unit = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 }[summary[5]];
  return {
    requests: Number(summary[1]),
    seconds: Number(summary[2]) / (summary[3] === 'ms' ? 1000 : 1),
    bytes: Number(summary[4]) * unit,
    requestsPerSec: Number(rps[1]),
  };
}
