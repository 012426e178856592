/** Runs `airlock download` (dry-run or real) on a config written for the fixture upstream. */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { Workspace } from '../../src/workspace/workspace.js';
import { runAirlock, type CliResult } from '../helpers/cli.js';
import type { TestUpstream } from '../helpers/upstream.js';

export const SNAP1 = '2026-11-01';

export interface PlannedFileJson {
  url: string;
  path: string;
  variant: string;
  size: number | null;
  sha256: string | null;
  md5: string | null;
  present: boolean;
  reasons: string[];
  environments: string[];
}

export interface SourcePlanJson {
  source: string;
  files: number;
  new: number;
  present: number;
  bytes: number;
  environments: Array<{
    name: string;
    files: number;
    bytes: number;
    newFiles: number;
    newBytes: number;
  }>;
  problems: Array<{ source: string; environment?: string; requirement: string; why: string }>;
  notes: string[];
  list: PlannedFileJson[];
}

export const CRAN = (extra = '', packages = '[airA]') =>
  `  - name: cran\n    type: cran\n    url: cran/{snapshot}\n    snapshot: ${SNAP1}\n    packages: ${packages}\n${extra}`;
export const BINARY = (extra = '') =>
  `  - name: cran-jammy\n    type: cran-binary\n    url: cran/__linux__/jammy/{snapshot}\n    distribution: jammy\n    snapshot: ${SNAP1}\n${extra}`;
export const PYPI = (extra = '') =>
  `  - name: pypi\n    type: pypi\n    url: pypi/{snapshot}/simple\n    snapshot: ${SNAP1}\n${extra}`;

/** A workspace dir holding `mirror.yaml` (plus any input files) for one run. */
export function configDir(t: TestUpstream, top: string, sources: string[]): string {
  const dir = t.tempDir('plan');
  writeFileSync(
    join(dir, 'mirror.yaml'),
    `upstream: ${t.upstream.url}\n${top}sources:\n${sources.join('')}`,
  );
  return dir;
}

export function writeInput(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
}

export async function download(dir: string, ...flags: string[]): Promise<CliResult> {
  return runAirlock([
    'download',
    '--config',
    join(dir, 'mirror.yaml'),
    '--workspace',
    join(dir, 'ws'),
    ...flags,
  ]);
}

export interface PlanJson {
  environments: Array<{ name: string; python: string | null; r: string | null; libc: string }>;
  notes: string[];
  sources: SourcePlanJson[];
}

/** The whole dry-run JSON; fails the test on a non-zero exit. */
export async function planJson(dir: string): Promise<PlanJson> {
  const res = await download(dir, '--dry-run', '--json');
  expect(res.code, res.stderr).toBe(0);
  return JSON.parse(res.stdout) as PlanJson;
}

/** The dry-run plan, by source name. */
export async function plan(dir: string): Promise<Map<string, SourcePlanJson>> {
  const json = await planJson(dir);
  return new Map(json.sources.map((s) => [s.source, s]));
}

/** File names (last path segment) of a source plan, sorted, with `|variant` when not plain. */
export function names(p: SourcePlanJson | undefined, filter = (_f: PlannedFileJson) => true) {
  return (p?.list ?? [])
    .filter(filter)
    .map((f) => `${f.path.split('/').at(-1)}${f.variant ? `|${f.variant}` : ''}`)
    .sort();
}

export interface RecordedFile {
  path: string;
  variant: string;
  role: string;
  sha256: string;
  md5: string;
}

/** What a real run recorded in the workspace for a source, with each blob's md5. */
export function recordedFiles(dir: string, source: string): RecordedFile[] {
  const ws = Workspace.open(join(dir, 'ws'));
  try {
    const snapshot = ws.listSnapshots().find((s) => s.source === source);
    if (!snapshot) return [];
    return [...ws.entries(snapshot)].map((e) => ({
      path: e.path,
      variant: e.variant,
      role: e.role,
      sha256: e.sha256,
      md5: createHash('md5')
        .update(readFileSync(ws.blobPath(e.sha256)))
        .digest('hex'),
    }));
  } finally {
    ws.close();
  }
}

/** The stanza names of a PACKAGES file the run recorded. */
export function recordedPackagesNames(dir: string, source: string, variant = ''): string[] {
  const entry = recordedFiles(dir, source).find(
    (f) => f.path === 'src/contrib/PACKAGES' && f.variant === variant,
  );
  if (!entry) return [];
  const ws = Workspace.open(join(dir, 'ws'));
  try {
    const text = readFileSync(ws.blobPath(entry.sha256), 'utf8');
    return [...text.matchAll(/^Package: (\S+)/gm)].map((m) => m[1]!).sort();
  } finally {
    ws.close();
  }
}
