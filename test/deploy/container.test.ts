/**
 * The container image from deploy/Containerfile, built by `npm run image`'s builder with
 * podman: its user, entry point and default command; `import` run by naming it; `serve` of a
 * directory repository that the host's pip installs through; and `podman kube play` of the
 * serve Deployment in deploy/kubernetes (its directory-repository variant on a hostPath).
 * Registries are unreachable here, so the cached Debian 12 minbase root stands in for
 * debian:bookworm-slim; podman runs with runc, cgroupfs and explicit limits (containers.conf).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runAirlock } from '../helpers/cli.js';
import {
  fixtureConfig,
  withUpstream,
  writeConfig,
  type TestUpstream,
} from '../helpers/upstream.js';
import {
  bookwormMinbase,
  pipInstallsAlpha,
  REPO_ROOT,
  run,
  sharedRelease,
  toolsMissing,
  VERSION,
} from './deploy-harness.js';

const need = toolsMissing([
  { command: 'podman', pkg: 'podman' },
  { command: 'runc', pkg: 'runc' },
  // podman builds the pods' infra (pause) image from it: no registry needed.
  { command: 'catatonit', pkg: 'catatonit', alsoAt: '/usr/libexec/podman/catatonit' },
  { command: 'debootstrap', pkg: 'debootstrap' },
]);
const BASE = 'docker.io/library/debian:bookworm-slim';
const IMAGE = `localhost/airlock:${VERSION}`;
const NAME = `airlock-test-${process.pid}`;

let t: TestUpstream;
let work: string;
let env: NodeJS.ProcessEnv;
let usb: string;
let manifest: string;
const cleanups: Array<() => Promise<unknown>> = [];

function podman(args: string[], timeout = 120_000) {
  return run('podman', args, { env, timeout, maxBuffer: 16 << 20 });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function healthy(url: string, deadlineMs = 60_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`${url}/healthz never answered`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe.skipIf(need.skip !== undefined)('the container image', () => {
  beforeAll(async () => {
    if (need.failure) throw new Error(`container test cannot run: ${need.failure}`);
    t = await withUpstream();
    work = t.tempDir('container');
    const conf = join(work, 'containers.conf');
    writeFileSync(
      conf,
      '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]\n' +
        '[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\n',
    );
    env = { ...process.env, CONTAINERS_CONF: conf };
    const cache = await bookwormMinbase();
    const hasBase = await podman(['image', 'exists', BASE]).then(
      () => true,
      () => false,
    );
    if (!hasBase)
      await run('sh', ['-c', `tar -C '${cache}' -c . | podman import - ${BASE}`], { env });

    const tarball = await sharedRelease();
    await run(process.execPath, [join(REPO_ROOT, 'deploy/image.mjs'), '--release', tarball], {
      env,
      timeout: 300_000,
    });

    const key = join(work, 'site');
    const ok = async (args: string[]) => {
      const res = await runAirlock(args);
      expect(res.code, `airlock ${args.join(' ')}\n${res.stderr}`).toBe(0);
    };
    await ok(['keygen', '--out', key]);
    const config = fixtureConfig(t.upstream.url, '2026-11-01', { sources: ['pypi'] });
    await ok(['download', '--config', writeConfig(work, config), '--workspace', join(work, 'ws')]);
    usb = join(work, 'usb');
    mkdirSync(usb);
    await ok(['bundle', '--workspace', join(work, 'ws'), '--out', usb, '--sign-key', `${key}.key`]);
    execFileSync('cp', [`${key}.pub`, join(usb, 'site.pub')]);
    manifest = readdirSync(usb).find((f) => f.endsWith('.manifest.json'))!;
  }, 20 * 60_000);

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await t?.close();
  });

  it('runs airlock as user 65532 with serve --repo /repo on port 4242 by default and a health check', async () => {
    const { stdout } = await podman(['image', 'inspect', IMAGE]);
    const [image] = JSON.parse(stdout) as Array<{
      Config: { User: string; Entrypoint: string[]; Cmd: string[]; Labels: Record<string, string> };
      Healthcheck?: { Test: string[] };
    }>;
    const config = image!.Config;
    expect(config.User).toBe('65532:65532');
    expect(config.Labels['org.opencontainers.image.version']).toBe(VERSION);
    expect(config.Entrypoint).toEqual(['/opt/airlock/bin/airlock']);
    expect(config.Cmd).toEqual(['serve', '--repo', '/repo', '--host', '0.0.0.0', '--port', '4242']);
    expect(image!.Healthcheck?.Test.join(' ')).toContain('/opt/airlock/healthcheck.mjs');
    const version = await podman(['run', '--rm', '--network', 'none', IMAGE, '--version']);
    expect(version.stdout).toBe(`${VERSION}\n`);
  });

  it('imports a signed bundle when the command is named, writing the repository as its own user', async () => {
    const repo = join(work, 'repo');
    mkdirSync(repo);
    execFileSync('chown', ['65532:65532', repo]);
    await podman([
      'run',
      '--rm',
      '--network',
      'none',
      '-v',
      `${usb}:/media/usb:ro`,
      '-v',
      `${repo}:/repo`,
      IMAGE,
      'import',
      `/media/usb/${manifest}`,
      '--repo',
      '/repo',
      '--trust',
      '/media/usb/site.pub',
    ]);
    const owners = execFileSync('find', [repo, '-type', 'f', '-printf', '%u\n']).toString();
    expect(new Set(owners.trim().split('\n'))).toEqual(new Set(['65532']));
  });

  it('serves a directory repository read-only with --network host; the health check passes and pip installs through it', async () => {
    const port = await freePort();
    await podman([
      'run',
      '-d',
      '--name',
      NAME,
      '--network',
      'host',
      '-v',
      `${join(work, 'repo')}:/repo:ro`,
      IMAGE,
      'serve',
      '--repo',
      '/repo',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
    ]);
    cleanups.push(() => podman(['rm', '-f', '-t', '2', NAME]));
    const url = `http://127.0.0.1:${port}`;
    await healthy(url);
    await podman(['healthcheck', 'run', NAME]);
    expect(await pipInstallsAlpha(url, mkdtempSync(join(work, 'pip-')))).toEqual(
      expect.arrayContaining(['alpha', 'beta', 'gamma']),
    );
  });

  it('podman kube play runs the serve Deployment of deploy/kubernetes on a hostPath directory repository', async () => {
    const docs = parseAllDocuments(
      readFileSync(join(REPO_ROOT, 'deploy/kubernetes/far-side/serve.yaml'), 'utf8'),
    ).map((d) => d.toJS() as Record<string, any>);
    const deployment = docs.find((d) => d.kind === 'Deployment')!;
    // The directory-repository variant: one replica on the host's network (two would share a
    // port), the local image, the repository on a hostPath, no S3 credentials.
    const port = await freePort();
    deployment.metadata.name = `${NAME}-kube`;
    deployment.spec.replicas = 1;
    const pod = deployment.spec.template.spec;
    pod.hostNetwork = true;
    const container = pod.containers[0];
    container.image = IMAGE;
    container.args = ['serve', '--repo', '/repo', '--host', '127.0.0.1', '--port', String(port)];
    delete container.envFrom;
    // Host networking has no port mappings: the probes name the port itself.
    delete container.ports;
    container.readinessProbe.httpGet.port = port;
    container.livenessProbe.httpGet.port = port;
    container.volumeMounts.push({ name: 'repo', mountPath: '/repo', readOnly: true });
    pod.volumes.push({
      name: 'repo',
      hostPath: { path: join(work, 'repo'), type: 'Directory' },
    });
    const file = join(work, 'kube.yaml');
    writeFileSync(file, JSON.stringify(deployment));
    await podman(['kube', 'play', '--network', 'host', file], 300_000);
    cleanups.push(() => podman(['kube', 'down', file]));
    const url = `http://127.0.0.1:${port}`;
    await healthy(url);
    expect(await pipInstallsAlpha(url, mkdtempSync(join(work, 'pip-')))).toEqual(
      expect.arrayContaining(['alpha', 'beta', 'gamma']),
    );
    // The pod kept the Deployment's hardening: not root, no writable root file system.
    const { stdout } = await podman([
      'ps',
      '--filter',
      `label=app.kubernetes.io/component=serve`,
      '--format',
      '{{.Names}}',
    ]);
    const names = stdout
      .trim()
      .split('\n')
      .filter((n) => n.startsWith(`${NAME}-kube`));
    expect(names.length).toBe(1);
    const id = await podman([
      'exec',
      names[0]!,
      '/opt/airlock/node/bin/node',
      '-e',
      'process.stdout.write(String(process.getuid()))',
    ]);
    expect(id.stdout).toBe('65532');
    // /var/tmp is world-writable in the image: only a read-only root refuses the write.
    const write = await podman([
      'exec',
      names[0]!,
      '/bin/sh',
      '-c',
      'touch /var/tmp/x 2>&1 || echo refused',
    ]);
    expect(write.stdout).toContain('refused');
  });
});
