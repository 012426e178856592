/**
 * Which files of a PyPI source to carry. Without a package list: every file of every project
 * (a full mirror). With one: the files of the versions each specifier selects.
 */
import pLimit from 'p-limit';
import { ConfigError } from '../errors.js';
import type { PypiSourceConfig } from '../config/types.js';
import { compareVersions, parseVersion } from '../upstream/pep440.js';
import { InvalidRequirementError, parseRequirement, type Requirement } from '../upstream/pep508.js';
import { classifyFilename, type PypiFile } from '../upstream/pypi-simple.js';
import type { PlanContext, PlanProblem } from './plan-types.js';
import { listProjects, type ProjectLoader } from './plan-pypi.js';

export interface PypiChoice {
  file: PypiFile;
  version?: string;
  reasons: string[];
}

export interface PypiSelection {
  projects: Map<string, PypiChoice[]>;
  problems: PlanProblem[];
  environments: Array<{ name: string; files: number; bytes: number }>;
}

export function versionOfFile(filename: string): string | undefined {
  const c = classifyFilename(filename);
  return c.kind === 'other' ? undefined : c.version;
}

export async function selectPypiFiles(
  ctx: PlanContext,
  source: PypiSourceConfig,
  baseUrl: string,
  load: ProjectLoader,
  label: string,
): Promise<PypiSelection> {
  const projects = new Map<string, PypiChoice[]>();
  const problems: PlanProblem[] = [];
  if (source.packages === undefined && source.requirements === undefined) {
    const names = await listProjects(ctx, baseUrl);
    const limit = pLimit(ctx.config.concurrency);
    await Promise.all(
      names.map((name) =>
        limit(async () => {
          const page = await load(name);
          if (page)
            projects.set(
              page.name,
              page.files.map((file) => choice(file, [])),
            );
        }),
      ),
    );
    return { projects: sortMap(projects), problems, environments: [] };
  }
  const requirements = (source.packages ?? []).map((text, i) => parseAt(text, source, i));
  for (const req of requirements) {
    const page = await load(req.name);
    if (page === undefined) {
      problems.push({
        source: source.name,
        requirement: req.raw,
        why: `${req.name} not in ${label}`,
      });
      continue;
    }
    const chosen = chooseVersions(page.files, req, source);
    if (chosen.length === 0) {
      problems.push({
        source: source.name,
        requirement: req.raw,
        why: `no version of ${page.name} in ${label} satisfies ${req.raw}`,
      });
      continue;
    }
    const list = projects.get(page.name) ?? [];
    const seen = new Set(list.map((c) => c.file.filename));
    for (const file of chosen) if (!seen.has(file.filename)) list.push(choice(file, [req.raw]));
    projects.set(page.name, list);
  }
  if (problems.length > 0 && !source.allowMissing) {
    throw new ConfigError(problems.map((p) => p.why).join('; '), {
      hint: `fix the requirements of source ${source.name}, or set "allow-missing: true" to carry the rest`,
    });
  }
  return { projects: sortMap(projects), problems, environments: [] };
}

function chooseVersions(
  files: PypiFile[],
  req: Requirement & { raw: string },
  source: PypiSourceConfig,
): PypiFile[] {
  const pinned = req.specifier.isExactPin;
  const usable = files.filter(
    (f) => versionOfFile(f.filename) !== undefined && (f.yanked === false || pinned),
  );
  const versions = [...new Set(usable.map((f) => versionOfFile(f.filename)!))];
  const accepted = req.specifier
    .filter(versions, (v) => v)
    .filter((v) => parseVersion(v) !== undefined || pinned);
  accepted.sort((a, b) => compareVersions(b, a));
  const policy = source.versions;
  const keep =
    policy === 'all' ? accepted : accepted.slice(0, policy === 'newest' ? 1 : policy.latest);
  const wanted = new Set(keep);
  return usable.filter((f) => wanted.has(versionOfFile(f.filename)!));
}

function parseAt(text: string, source: PypiSourceConfig, i: number): Requirement & { raw: string } {
  try {
    return { ...parseRequirement(text), raw: text };
  } catch (err) {
    if (!(err instanceof InvalidRequirementError)) throw err;
    throw new ConfigError(
      `sources "${source.name}" packages[${i}]: "${text}" is not a requirement: ${err.message}`,
      {
        hint: 'write PEP 508 requirements such as "requests>=2.31,<3" or a plain project name',
      },
    );
  }
}

function choice(file: PypiFile, reasons: string[]): PypiChoice {
  const version = versionOfFile(file.filename);
  return version === undefined ? { file, reasons } : { file, version, reasons };
}

function sortMap<V>(map: Map<string, V>): Map<string, V> {
  return new Map([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
