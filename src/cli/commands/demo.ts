/**
 * `airlock demo`: the whole flow on loopback, with the very commands an operator runs:
 * a sample upstream (real R and Python packages), download, keygen, a full signed bundle cut
 * into parts, verify, import; then the next snapshot as an incremental bundle; then serve.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Argv } from 'yargs';
import { generateKeyPairFiles } from '../../bundle/keygen.js';
import { generateFixture } from '../../fixture/generate.js';
import { startFixtureUpstream } from '../../fixture/server.js';
import { requireListenable } from '../../serve/listen-error.js';
import { portOption } from '../numeric-option.js';
import { runCommand } from '../run-command.js';
import { bundle } from './bundle.js';
import { prepareDemoDir } from './demo-dir.js';
import { serveSampleUpstream } from './demo-upstream.js';
import { download } from './download.js';
import { runImport } from './import.js';
import { serve } from './serve.js';
import { verify } from './verify.js';

interface DemoArgs {
  dir?: string;
  port?: string;
  serve: boolean;
  'upstream-only': boolean;
}

const SNAPSHOTS = ['2026-11-01', '2026-11-15'];
const DEFAULT_PORT = 4242;

/** `port` when it can be listened on now, else 0 (any free port). */
async function freePortOr(port: number): Promise<number> {
  return requireListenable('127.0.0.1', port).then(
    () => port,
    () => 0,
  );
}

export function demoCommand(y: Argv): Argv {
  return y.command<DemoArgs>(
    'demo',
    'run the whole flow on a built-in sample upstream on loopback, then serve the result',
    (a) =>
      a
        .option('dir', {
          type: 'string',
          describe: 'where to put the demo files (default: a new temp dir)',
        })
        .option('port', {
          type: 'string',
          describe:
            'port for the final airlock serve (default 4242, or any free port when it is taken), or with --upstream-only for the sample upstream (default 4343); 0: any',
        })
        .option('serve', {
          type: 'boolean',
          default: true,
          describe: 'end with a running server (--no-serve to stop after import)',
        })
        .option('upstream-only', {
          type: 'boolean',
          default: false,
          describe:
            'only serve the sample upstream (on 127.0.0.1:4343, what samples/*.yaml name) until Ctrl-C',
        }) as unknown as Argv<DemoArgs>,
    (args) => runCommand(({ signal }) => demo(args, signal), { signalStops: true }),
  );
}

async function demo(args: DemoArgs, signal: AbortSignal): Promise<number> {
  const givenPort = args.port === undefined ? undefined : portOption(args.port);
  if (args['upstream-only']) return serveSampleUpstream({ dir: args.dir, port: givenPort }, signal);
  // A busy --port fails now, not after the whole flow; without one, 4242 (the port the docs
  // show) when it is free, else any free port.
  const port = givenPort ?? (await freePortOr(DEFAULT_PORT));
  if (port !== 0 && givenPort !== undefined && args.serve)
    await requireListenable('127.0.0.1', port);
  const dir = prepareDemoDir(args.dir);
  const root = dir.root;
  // Its own temp dir goes when the demo ends by Ctrl-C or a failure; --no-serve keeps it.
  let keep = false;
  const say = (text: string) => process.stdout.write(`\n== ${text}\n`);
  say(`airlock demo in ${root}`);
  await generateFixture(join(root, 'upstream'));
  const upstream = await startFixtureUpstream({ dir: join(root, 'upstream') });
  let upstreamOpen = true;
  const closeUpstream = async () => {
    if (upstreamOpen) await upstream.close();
    upstreamOpen = false;
  };
  try {
    const workspace = join(root, 'workspace');
    const repo = join(root, 'repo');
    const keys = await generateKeyPairFiles(join(root, 'airlock'));
    say(`signing key: ${keys.privateKeyPath} (fingerprint ${keys.fingerprint.slice(0, 16)}…)`);
    for (const [i, snapshot] of SNAPSHOTS.entries()) {
      const config = join(root, `mirror-${snapshot}.yaml`);
      writeFileSync(config, demoConfig(upstream.url, snapshot));
      say(`airlock download --config ${config} --workspace ${workspace}`);
      let code = await download({ config, workspace, 'dry-run': false, json: false }, signal);
      if (code !== 0) return code;

      const out = join(root, `carry-${i + 1}`);
      mkdirSync(out, { recursive: true });
      say(
        `airlock bundle --workspace ${workspace} --out ${out} --max-part-size 64K --sign-key ${keys.privateKeyPath}` +
          (i === 0 ? ' --full' : ''),
      );
      code = await bundle(
        {
          workspace,
          out,
          full: i === 0,
          'max-part-size': '64K',
          'sign-key': keys.privateKeyPath,
          json: false,
        },
        signal,
      );
      if (code !== 0) return code;
      const manifest = join(
        out,
        readdirSync(out).find((f) => f.endsWith('.manifest.json'))!,
      );

      say(`(carried across the gap) airlock verify ${manifest} --trust ${keys.publicKeyPath}`);
      code = await verify({ manifest, trust: keys.publicKeyPath, json: false }, signal);
      if (code !== 0) return code;
      say(`airlock import ${manifest} --repo ${repo} --trust ${keys.publicKeyPath}`);
      code = await runImport(
        { manifest, repo, trust: keys.publicKeyPath, wait: false, json: false },
        signal,
      );
      if (code !== 0) return code;
    }
    await closeUpstream();
    if (!args.serve || signal.aborted) {
      keep = !signal.aborted;
      if (keep) say(`done: repository in ${repo}; serve it with: airlock serve --repo ${repo}`);
      return 0;
    }
    say(`airlock serve --repo ${repo} --port ${port}`);
    return await serve(
      { repo, host: '127.0.0.1', port, 'access-log': 'common', 'refresh-ms': 2000 },
      signal,
      (url) => process.stdout.write(clientInstructions(url)),
    );
  } finally {
    await closeUpstream();
    if (!keep) dir.cleanUp();
  }
}

function demoConfig(url: string, snapshot: string): string {
  return `# written by airlock demo: the sample upstream on loopback
upstream: ${url}
sources:
  - name: cran
    type: cran
    url: cran/{snapshot}
    snapshot: ${snapshot}
  - name: cran-jammy
    type: cran-binary
    url: cran/__linux__/jammy/{snapshot}
    distribution: jammy
    r: ["4.3", "4.4"]
    snapshot: ${snapshot}
  - name: pypi
    type: pypi
    url: pypi/{snapshot}/simple
    snapshot: ${snapshot}
    versions: all
`;
}

function clientInstructions(url: string): string {
  return `
Install from it (in another terminal):
  python3 -m pip install --index-url ${url}/pypi/latest/simple --target /tmp/demo-py alpha
  Rscript -e 'dir.create("/tmp/demo-r", showWarnings = FALSE); install.packages("airA", repos = "${url}/cran/latest", lib = "/tmp/demo-r")'
  # Linux binaries for your R version (R sends its version only with this option):
  Rscript -e 'options(HTTPUserAgent = sprintf("R/%s R (%s)", getRversion(), paste(getRversion(), R.version["platform"], R.version["arch"], R.version["os"]))); dir.create("/tmp/demo-r", showWarnings = FALSE); install.packages("airC", repos = "${url}/cran/__linux__/jammy/latest", lib = "/tmp/demo-r")'
  Browse ${url}/ for the sources, snapshots and client settings.
Stop the server with Ctrl-C.
`;
}
