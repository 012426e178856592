/**
 * `airlock demo --upstream-only`: the demo's sample upstream alone (real R and Python
 * packages in two dated snapshots), served until Ctrl-C, so the configs in samples/ can be
 * tried against it: they name http://127.0.0.1:4343, this command's default address.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateFixture } from '../../fixture/generate.js';
import { startFixtureUpstream } from '../../fixture/server.js';
import { UsageError } from '../../errors.js';

/** The port samples/*.yaml name. */
export const SAMPLE_UPSTREAM_PORT = 4343;

export async function serveSampleUpstream(
  opts: { dir?: string | undefined; port?: number | undefined },
  signal: AbortSignal,
): Promise<number> {
  // A temp dir of our own is removed on the way out; a --dir is the operator's, and kept
  // (generating into it again is quick and gives the same bytes).
  const own = opts.dir === undefined;
  const root = opts.dir ?? mkdtempSync(join(tmpdir(), 'airlock-sample-upstream-'));
  try {
    const tree = join(root, 'upstream');
    if (!existsSync(join(tree, 'catalog.json'))) await generateFixture(tree);
    const port = opts.port ?? SAMPLE_UPSTREAM_PORT;
    let upstream;
    try {
      upstream = await startFixtureUpstream({ dir: tree, port });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      throw new UsageError(`port ${port} on 127.0.0.1 is already in use`, {
        hint: `stop what listens there, or give another one with --port (then change upstream: in the sample configs to match)`,
      });
    }
    try {
      process.stdout.write(
        `sample upstream: ${upstream.url}\n` +
          `  try: airlock download --config samples/mirror.yaml --workspace /tmp/airlock-ws --dry-run\n` +
          `  (samples/*.yaml name http://127.0.0.1:${SAMPLE_UPSTREAM_PORT})\n` +
          'Stop it with Ctrl-C.\n',
      );
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener('abort', () => resolve(), { once: true });
      });
      return 0;
    } finally {
      await upstream.close();
    }
  } finally {
    if (own) rmSync(root, { recursive: true, force: true });
  }
}
