/**
 * The greedy resolution of one environment (strategy described in python-closure.ts).
 */
import { SpecifierSet } from '../upstream/pep440.js';
import {
  evaluateMarker,
  formatRequirement,
  InvalidRequirementError,
  parseRequirement,
  type MarkerEnvironment,
  type Requirement,
} from '../upstream/pep508.js';
import { normalizeProjectName } from '../model.js';
import type { DistributionMetadata } from '../upstream/core-metadata.js';
import type { PypiFile } from '../upstream/pypi-file.js';
import type { TargetEnvironment } from './environments.js';
import {
  filesForEnvironment,
  requiresPythonAllows,
  type EnvironmentTarget,
  type ProjectRelease,
  type SdistPolicy,
} from './python-candidates.js';

export interface ChosenRelease {
  version: string;
  files: PypiFile[];
  extras: Set<string>;
  /** One chain per distinct dependent, root first: ['alpha[fast]', 'epsilon']. */
  chains: string[][];
}

export type EnvironmentResolution = Map<string, ChosenRelease>;

export interface Unsatisfiable {
  environment: string;
  requirement: string;
  chain: string[];
  why: string;
}

/** Each project page and each METADATA loaded once, however many environments ask. */
export interface ResolverCache {
  releases(project: string): Promise<ProjectRelease[] | undefined>;
  metadata(file: PypiFile): Promise<DistributionMetadata>;
}

export interface EnvironmentContext {
  env: TargetEnvironment;
  markers: MarkerEnvironment;
  target: EnvironmentTarget;
  cache: ResolverCache;
  sdists: SdistPolicy;
  constraints: readonly Requirement[];
}

interface Pending {
  requirement: Requirement;
  chain: string[];
}

export async function resolveEnvironment(
  context: EnvironmentContext,
  roots: readonly Requirement[],
  pinned?: { project: string; version: string },
): Promise<{ resolution: EnvironmentResolution; unsatisfiable: Unsatisfiable[] }> {
  const resolution: EnvironmentResolution = new Map();
  const seen = new Map<string, Pending[]>();
  const unsatisfiable: Unsatisfiable[] = [];
  const queue: Pending[] = roots.map((r) => ({ requirement: r, chain: [display(r)] }));
  const report = (item: Pending, why: string) =>
    unsatisfiable.push({
      environment: context.env.name,
      requirement: formatRequirement(item.requirement),
      chain: item.chain,
      why,
    });

  for (let item = queue.shift(); item; item = queue.shift()) {
    const { requirement } = item;
    const project = requirement.normalizedName;
    if (requirement.url !== undefined) {
      report(item, `direct URL requirements (${requirement.url}) cannot be resolved from an index`);
      continue;
    }
    const history = [...(seen.get(project) ?? []), item];
    seen.set(project, history);
    const current = resolution.get(project);
    const newExtras = requirement.extras.filter((e) => !current?.extras.has(e));
    if (current && requirement.specifier.contains(current.version, { prereleases: true })) {
      addChain(current, item.chain);
      if (newExtras.length === 0) continue;
      newExtras.forEach((e) => current.extras.add(e));
      queue.push(...(await dependencies(context, project, current, item.chain)));
      continue;
    }

    const releases = await context.cache.releases(project);
    if (!releases || releases.length === 0) {
      report(item, `${requirement.name} is not in the index`);
      continue;
    }
    const specifier = history
      .map((h) => h.requirement.specifier)
      .reduce((all, s) => all.and(s), constraintFor(context, project));
    const allowYanked = history.some((h) => h.requirement.specifier.isExactPin);
    const pick = await choose(
      context,
      releases,
      specifier,
      allowYanked,
      pinned?.project === project ? pinned.version : undefined,
    );
    if (typeof pick === 'string') {
      const conflict = current
        ? ` (${current.version} was chosen for ${current.chains[0]!.join(' -> ')})`
        : '';
      report(item, `${pick}${conflict}`);
      continue;
    }
    const chosen: ChosenRelease = {
      version: pick.release.version,
      files: pick.files,
      extras: new Set([...(current?.extras ?? []), ...requirement.extras]),
      chains: current?.chains ?? [],
    };
    addChain(chosen, item.chain);
    resolution.set(project, chosen);
    queue.push(...(await dependencies(context, project, chosen, item.chain)));
  }
  return { resolution, unsatisfiable };
}

/** The newest installable release satisfying the specifier, or why there is none. */
async function choose(
  context: EnvironmentContext,
  releases: readonly ProjectRelease[],
  specifier: SpecifierSet,
  allowYanked: boolean,
  pinnedVersion: string | undefined,
): Promise<{ release: ProjectRelease; files: PypiFile[] } | string> {
  const options = { sdists: context.sdists, allowYanked };
  const pinnedRelease =
    pinnedVersion === undefined ? undefined : byVersion(releases).get(pinnedVersion);
  const candidates = pinnedVersion === undefined ? releases : pinnedRelease ? [pinnedRelease] : [];
  const installable = candidates.flatMap((release) => {
    const files = filesForEnvironment(release, context.target, options);
    return files ? [{ release, files }] : [];
  });
  for (const candidate of specifier.filter(installable, (c) => c.release.version)) {
    const metadataFile = candidate.files[0]!;
    const metadata = await context.cache.metadata(metadataFile);
    if (requiresPythonAllows(metadata.requiresPython, context.target.pythonFull)) return candidate;
  }
  const satisfying = specifier.filter(releases, (r) => r.version);
  const wanted = specifier.isEmpty ? 'any version' : specifier.toString();
  if (satisfying.length === 0) {
    const available = releases
      .slice(0, 5)
      .map((r) => r.version)
      .join(', ');
    return `no release satisfies ${wanted} (newest: ${available})`;
  }
  const versions = satisfying
    .slice(0, 5)
    .map((r) => r.version)
    .join(', ');
  return (
    `${versions} satisfy ${wanted}, but none has a file Python ${context.env.python} on ` +
    `${context.env.distribution} ${context.env.arch} can install (wheel tags, requires-python, yanked` +
    `${context.sdists === 'never' ? ', sdists: never' : ''})`
  );
}

// `versions: all` resolves every release pinned in turn: a scan per pin made 200,000 releases
// take 200,000² comparisons, so each project's releases are indexed by version once.
const releaseIndexes = new WeakMap<readonly ProjectRelease[], Map<string, ProjectRelease>>();

function byVersion(releases: readonly ProjectRelease[]): Map<string, ProjectRelease> {
  let index = releaseIndexes.get(releases);
  if (index === undefined) {
    index = new Map();
    for (const release of releases)
      if (!index.has(release.version)) index.set(release.version, release);
    releaseIndexes.set(releases, index);
  }
  return index;
}

/** The chosen release's Requires-Dist that apply to this environment and these extras. */
async function dependencies(
  context: EnvironmentContext,
  project: string,
  chosen: ChosenRelease,
  chain: string[],
): Promise<Pending[]> {
  const metadata = await context.cache.metadata(chosen.files[0]!);
  const pending: Pending[] = [];
  for (const text of metadata.requiresDist) {
    let requirement: Requirement;
    try {
      requirement = parseRequirement(text);
    } catch (err) {
      // One bad Requires-Dist line in an upstream's metadata should not stop the plan; pip
      // would fail on it only if it needed it, so skip it.
      if (err instanceof InvalidRequirementError) continue;
      throw err;
    }
    if (requirement.marker && !evaluateMarker(requirement.marker, context.markers, chosen.extras))
      continue;
    if (
      requirement.normalizedName === project &&
      requirement.extras.every((e) => chosen.extras.has(e))
    )
      continue;
    pending.push({ requirement, chain: [...chain, display(requirement)] });
  }
  return pending;
}

function holds(context: EnvironmentContext, requirement: Requirement): boolean {
  return !requirement.marker || evaluateMarker(requirement.marker, context.markers);
}

function display(r: Requirement): string {
  return r.extras.length > 0 ? `${r.name}[${r.extras.join(',')}]` : r.name;
}

function addChain(chosen: ChosenRelease, chain: string[]): void {
  const parent = chain.at(-2) ?? '';
  if (!chosen.chains.some((c) => (c.at(-2) ?? '') === parent)) chosen.chains.push(chain);
}

/** The specifiers `-c` constraints put on a project in this environment. */
function constraintFor(context: EnvironmentContext, project: string): SpecifierSet {
  return context.constraints
    .filter((c) => normalizeProjectName(c.name) === project && holds(context, c))
    .reduce((set, c) => set.and(c.specifier), new SpecifierSet());
}
