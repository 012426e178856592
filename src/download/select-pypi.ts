/**
 * Which files of a PyPI source to carry. Without requirements: every file of every project
 * (a full mirror). With them: the dependency closure per target environment
 * (resolvePythonClosure), and the files each environment would install.
 *
 * Without any environment that has a Python, the closure is resolved for every supported
 * CPython (DEFAULT_PYTHONS, glibc 2.35 (jammy), x86_64): their markers and requires-python
 * decide which releases and dependencies are chosen. As nothing says which platforms the far side runs,
 * every file of each chosen release is carried then (all wheels, and the sdist unless
 * `sdists: never`). docs/selection.md explains this choice.
 */
import pLimit from 'p-limit';
import { ConfigError } from '../errors.js';
import type { PypiSourceConfig } from '../config/types.js';
import { buildEnvironment, type TargetEnvironment } from '../select/environments.js';
import {
  resolvePythonClosure,
  type CarriedFile,
  type PythonClosure,
} from '../select/python-closure.js';
import { groupReleases } from '../select/python-candidates.js';
import { classifyFilename, type PypiFile } from '../upstream/pypi-simple.js';
import type { PlanContext, PlanProblem } from './plan-types.js';
import { listProjects } from './plan-pypi.js';
import type { ProjectLoader } from './project-pages.js';
import { createMetadataLoader } from './pypi-metadata.js';
import type { PythonRoots } from './selection-roots.js';
import { noMetadataFetches, type MetadataFetches } from './planning-fetches.js';
import { formatSize } from '../size.js';

/** A file chosen from a project's page (planPypi reads the page again for its details). */
export interface PypiChoice {
  filename: string;
  version?: string;
  reasons: string[];
  /** The target environments that install this file. */
  environments: string[];
}

export interface PypiSelection {
  /**
   * Project by project, in name order. Each project's choices are made as it is reached, and
   * the closure's records of its files are released then: at 200,000 files, holding the
   * closure and every choice at once was most of a download's heap.
   */
  projects: AsyncIterable<[string, PypiChoice[]]>;
  problems: PlanProblem[];
  notes: string[];
  metadataFetches: MetadataFetches;
}

/**
 * The CPython minors a closure is resolved for when no environment names a Python: those
 * python.org still supports in December 2026 (3.11 to 3.14, and 3.15, released October
 * 2026), and 3.10, whose upstream support ended in October 2026 but which is the system Python
 * of Ubuntu 22.04 (jammy), the default distribution. One list in one place: update it as
 * versions come and go (docs/selection.md says the same).
 */
export const DEFAULT_PYTHONS = ['3.10', '3.11', '3.12', '3.13', '3.14', '3.15'] as const;

export const DEFAULT_ENVIRONMENTS: readonly TargetEnvironment[] = DEFAULT_PYTHONS.map((python) =>
  buildEnvironment(
    { name: `cpython${python}`, python, distribution: 'jammy', arch: 'x86_64' },
    'the default environments',
  ),
);

/** Distributions with unreadable metadata named in the notes; the rest are counted. */
const UNREADABLE_NAMED = 20;

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
  roots: PythonRoots | undefined,
): Promise<PypiSelection> {
  if (roots === undefined) return everything(ctx, baseUrl, load);
  const problems: PlanProblem[] = [];
  const notes = [...roots.notes];
  const targets = ctx.config.environments.filter((e) => e.python !== undefined);
  const universal = targets.length === 0;
  if (universal) {
    notes.push(
      `no target environment has a Python: dependencies resolved for every supported CPython (${DEFAULT_PYTHONS.join(', ')}) on jammy x86_64, ` +
        'and every file of each chosen release is carried (set environments: to carry only what they install)',
    );
  }
  const metadataFetches = noMetadataFetches();
  // The closure's METADATA cache is bounded, so one distribution may be read (and found
  // unreadable) more than once: count each once. By name: a PypiFile would keep its page.
  const unreadableFiles = new Set<string>();
  const unknownDependencies = new Set<string>();
  const withheldFiles = new Set<string>();
  const loadMetadata = createMetadataLoader(ctx, {
    onUnreadable: (file, why) => {
      if (unreadableFiles.has(file.filename)) return;
      unreadableFiles.add(file.filename);
      // Named one by one up to a point: an index of broken wheels must not become a
      // 200,000-line report (nor hold 200,000 notes in memory).
      if (unreadableFiles.size <= UNREADABLE_NAMED)
        notes.push(`${file.filename}: carried, but its dependencies are not followed: ${why}`);
    },
    onFetching: (file) => {
      const event = { type: 'metadata-fetch', source: source.name, url: file.url } as const;
      ctx.onEvent?.({ ...event, filename: file.filename, ...sizeOf(file) });
    },
    onFetched: (file, got) => {
      metadataFetches.files++;
      metadataFetches.bytes += got.size;
      metadataFetches.transferred += got.bytesTransferred;
      ctx.onEvent?.({
        type: 'metadata-fetched',
        source: source.name,
        filename: file.filename,
        bytes: got.size,
        transferred: got.bytesTransferred,
      });
    },
    onWithheld: (file) => {
      if (withheldFiles.has(file.filename)) return;
      withheldFiles.add(file.filename);
      metadataFetches.withheld++;
      if (file.size === undefined) metadataFetches.withheldUnknownSizes++;
      metadataFetches.withheldBytes += file.size ?? 0;
      problems.push({
        source: source.name,
        file: file.filename,
        requirement: file.filename,
        why:
          'carried, but its dependencies are unknown: the upstream has no PEP 658 metadata for it ' +
          `and --metadata-fetch never forbids fetching it${file.size === undefined ? '' : ` (${formatSize(file.size)})`} to read them`,
      });
    },
    // A problem, not a note: pip on the far side will miss whatever this sdist needs.
    onUnknownDependencies: (file, why) => {
      if (unknownDependencies.has(file.filename)) return;
      unknownDependencies.add(file.filename);
      problems.push({
        source: source.name,
        file: file.filename,
        requirement: file.filename,
        why: `carried, but its dependencies are unknown: ${why}`,
      });
    },
  });
  const closure = await resolvePythonClosure({
    roots: roots.requirements,
    constraints: roots.constraints,
    environments: universal ? DEFAULT_ENVIRONMENTS : targets,
    loadProject: async (name) => {
      const page = await load(name);
      return page && { files: page.files };
    },
    loadMetadata,
    versions: source.versions,
    sdists: source.sdists,
  });
  if (unreadableFiles.size > UNREADABLE_NAMED) {
    notes.push(
      `${unreadableFiles.size - UNREADABLE_NAMED} more distribution(s) with unreadable metadata: carried, but their dependencies are not followed`,
    );
  }
  problems.push(...closureProblems(closure, source, label));
  const projects = universal
    ? wholeReleases(closure, load, source)
    : environmentFiles(closure, targets);
  return { projects, problems, notes, metadataFetches };
}

function sizeOf(file: PypiFile): { size?: number } {
  return file.size === undefined ? {} : { size: file.size };
}

/** Unsatisfiable requirements become plan problems; a project the index lacks stops the run. */
function closureProblems(
  closure: PythonClosure,
  source: PypiSourceConfig,
  label: string,
): PlanProblem[] {
  const missing = new Map<string, string>();
  const problems: PlanProblem[] = [];
  for (const u of closure.unsatisfiable) {
    if (u.why.endsWith(' is not in the index')) {
      const name = u.chain.at(-1)?.replace(/\[.*$/, '') ?? u.requirement;
      missing.set(`${u.chain.join(' -> ')}: ${name} not in ${label}`, u.chain.join(' -> '));
      continue;
    }
    problems.push({
      source: source.name,
      environment: u.environment,
      requirement: `${u.chain.join(' -> ')} (${u.requirement})`,
      why: u.why,
    });
  }
  if (missing.size > 0 && !source.allowMissing) {
    const count = missing.size === 1 ? 'a requirement' : `${missing.size} requirements`;
    throw new ConfigError(
      `${label}: ${count} cannot be carried:\n${[...missing.keys()].map((m) => `  ${m}`).join('\n')}`,
      {
        hint: `fix the requirements of source ${source.name}, or set "allow-missing: true" to carry the rest`,
      },
    );
  }
  const carriedOn = [...missing].map(([why, chain]) => ({
    source: source.name,
    requirement: chain,
    why,
  }));
  return [...carriedOn, ...problems];
}

/** The files each environment installs, with the environments that install each. */
async function* environmentFiles(
  closure: PythonClosure,
  targets: readonly TargetEnvironment[],
): AsyncIterable<[string, PypiChoice[]]> {
  for (const [project, filenames] of filesByProject(closure)) {
    const list = takeFiles(closure, filenames).map(([filename, carried]): PypiChoice => {
      const environments = targets
        .map((t) => t.name)
        .filter((name) => carried.reasons.some((r) => r.startsWith(`${name}: `)));
      return { filename, version: carried.version, reasons: carried.reasons, environments };
    });
    yield [project, list];
  }
}

/** Without environments: every file of each chosen release (yanked ones only when pinned). */
async function* wholeReleases(
  closure: PythonClosure,
  load: ProjectLoader,
  source: PypiSourceConfig,
): AsyncIterable<[string, PypiChoice[]]> {
  // Project by project: its releases by version and its choices by file name are built once
  // (per carried file was quadratic), and dropped before the next project's.
  for (const [project, filenames] of filesByProject(closure)) {
    const carriedFiles = takeFiles(closure, filenames);
    const page = await load(project);
    const byVersion = new Map(
      groupReleases(project, page?.files ?? []).map((r) => [r.version, r.files]),
    );
    const list: PypiChoice[] = [];
    const byName = new Map<string, PypiChoice>();
    for (const [filename, carried] of carriedFiles) {
      const release = byVersion.get(carried.version) ?? [];
      // The release's files: yanked ones only when the carried one is (an exact pin chose it).
      const names = release.length > 0 ? release.map((f) => f.filename) : [filename];
      for (const [i, name] of names.entries()) {
        if (release[i] && release[i].yanked !== false && !carried.yanked) continue;
        if (source.sdists === 'never' && !name.endsWith('.whl')) continue;
        const known = byName.get(name);
        if (known) {
          const added = carried.reasons.filter((r) => !known.reasons.includes(r));
          // carried.reasons is shared with other files: a choice gets its own list, not a push.
          if (added.length > 0) {
            known.reasons = [...known.reasons, ...added];
            known.environments = defaultEnvironmentsOf(known.reasons);
          }
          continue;
        }
        const choice: PypiChoice = {
          filename: name,
          version: carried.version,
          reasons: carried.reasons,
          environments: defaultEnvironmentsOf(carried.reasons),
        };
        byName.set(name, choice);
        list.push(choice);
      }
    }
    yield [project, list];
  }
}

/**
 * The default environments whose closure chose a file (its reasons start with their names);
 * one shared list per combination, as a large plan shares them across files.
 */
const defaultLists = new Map<string, string[]>();
function defaultEnvironmentsOf(reasons: readonly string[]): string[] {
  const names = DEFAULT_ENVIRONMENTS.map((e) => e.name).filter((name) =>
    reasons.some((r) => r.startsWith(`${name}: `)),
  );
  const key = names.join(',');
  const known = defaultLists.get(key);
  if (known) return known;
  defaultLists.set(key, names);
  return names;
}

/** The closure's file names by project, in project-name order (the records stay put). */
function filesByProject(closure: PythonClosure): Array<[string, string[]]> {
  const byProject = new Map<string, string[]>();
  for (const [filename, carried] of closure.files) {
    const list = byProject.get(carried.project);
    if (list) list.push(filename);
    else byProject.set(carried.project, [filename]);
  }
  return [...byProject].sort(([a], [b]) => compareNames(a, b));
}

/** Takes a project's records out of the closure: nothing reads them again. */
function takeFiles(closure: PythonClosure, filenames: string[]): Array<[string, CarriedFile]> {
  return filenames.map((filename) => {
    const carried = closure.files.get(filename)!;
    closure.files.delete(filename);
    return [filename, carried];
  });
}

async function everything(
  ctx: PlanContext,
  baseUrl: string,
  load: ProjectLoader,
): Promise<PypiSelection> {
  const names = await listProjects(ctx, baseUrl);
  // Every page fetched first, several at a time (each is kept in a scratch file, so reading
  // it again below costs no request), keyed by the name the page gives itself.
  const limit = pLimit(ctx.config.concurrency);
  const listedAs = new Map<string, string>();
  await Promise.all(
    names.map((name) =>
      limit(async () => {
        const page = await load(name);
        if (page) listedAs.set(page.name, name);
      }),
    ),
  );
  const pages = [...listedAs].sort(([a], [b]) => compareNames(a, b));
  async function* projects(): AsyncIterable<[string, PypiChoice[]]> {
    for (const [project, listed] of pages) {
      const page = await load(listed);
      if (page) yield [project, page.files.map(wholeMirrorChoice)];
    }
  }
  return { projects: projects(), problems: [], notes: [], metadataFetches: noMetadataFetches() };
}

function wholeMirrorChoice(file: PypiFile): PypiChoice {
  const version = versionOfFile(file.filename);
  const choice: PypiChoice = { filename: file.filename, reasons: [], environments: [] };
  if (version !== undefined) choice.version = version;
  return choice;
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
