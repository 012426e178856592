/**
 * Real bundles for the import tests, written by the real bundle writer from an in-memory
 * workspace over real blob files: a full bundle (cran 2026-11-01 + pypi 2026-11-01) and a
 * delta on it (cran 2026-11-02: most files unchanged, a few new).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeBundle } from '../../src/bundle/write.js';
import type { BundleSummary } from '../../src/bundle/events.js';
import {
  MemoryBundleWorkspace,
  randomFile,
  type FileSpec,
} from '../helpers/memory-bundle-workspace.js';

export interface BundleChain {
  full: BundleSummary;
  delta: BundleSummary;
  /** Files of each snapshot by 'source/snapshot', to compare what a repository serves. */
  files: Map<string, FileSpec[]>;
}

export interface ChainOptions {
  /** Size of the largest file (the crash tests kill mid-way through it). */
  bigFile?: number;
  maxPartSize?: number;
}

export async function makeBundleChain(dir: string, opts: ChainOptions = {}): Promise<BundleChain> {
  const workspace = new MemoryBundleWorkspace(join(dir, 'workspace'));
  const out = join(dir, 'usb');
  await mkdir(out, { recursive: true });
  const files = new Map<string, FileSpec[]>();
  const cran1: FileSpec[] = [
    {
      path: 'src/contrib/PACKAGES',
      bytes: Buffer.from('Package: alpha\nVersion: 1.0\n'),
      role: 'index',
    },
    {
      path: 'src/contrib/alpha_1.0.tar.gz',
      bytes: randomFile(3000),
      package: 'alpha',
      version: '1.0',
    },
    {
      path: 'src/contrib/beta_2.1.tar.gz',
      bytes: randomFile(opts.bigFile ?? 70_000),
      package: 'beta',
      version: '2.1',
    },
    {
      path: 'src/contrib/gamma_0.3.tar.gz',
      bytes: randomFile(5000),
      package: 'gamma',
      version: '0.3',
    },
  ];
  const pypi1: FileSpec[] = [
    { path: 'requests/', bytes: Buffer.from('{"name":"requests","files":[]}'), role: 'index' },
    {
      path: 'requests/requests-2.31.0-py3-none-any.whl',
      bytes: randomFile(4000),
      package: 'requests',
      version: '2.31.0',
    },
  ];
  await workspace.addSnapshot({ source: 'cran', snapshot: '2026-11-01' }, cran1);
  await workspace.addSnapshot({ source: 'pypi', snapshot: '2026-11-01' }, pypi1, 'pypi');
  files.set('cran/2026-11-01', cran1);
  files.set('pypi/2026-11-01', pypi1);
  const full = await write(workspace, out, new Date('2026-11-01T12:00:00Z'), opts, true);

  const cran2: FileSpec[] = [
    {
      path: 'src/contrib/PACKAGES',
      bytes: Buffer.from('Package: alpha\nVersion: 1.1\n'),
      role: 'index',
    },
    cran1[1]!,
    {
      path: 'src/contrib/alpha_1.1.tar.gz',
      bytes: randomFile(3500),
      package: 'alpha',
      version: '1.1',
    },
    cran1[2]!,
    cran1[3]!,
  ];
  await workspace.addSnapshot({ source: 'cran', snapshot: '2026-11-02' }, cran2);
  files.set('cran/2026-11-02', cran2);
  const delta = await write(workspace, out, new Date('2026-11-02T12:00:00Z'), opts, false);
  return { full, delta, files };
}

async function write(
  workspace: MemoryBundleWorkspace,
  outDir: string,
  now: Date,
  opts: ChainOptions,
  full: boolean,
): Promise<BundleSummary> {
  const result = await writeBundle({
    workspace,
    outDir,
    airlockVersion: 'test',
    now,
    ...(full ? { full: true } : {}),
    ...(opts.maxPartSize === undefined ? {} : { maxPartSize: opts.maxPartSize }),
  });
  if ('nothingNew' in result) throw new Error(`nothing to bundle: ${result.reason}`);
  return result;
}
