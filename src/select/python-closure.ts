/**
 * The Python dependency closure, per target environment, and the files to carry.
 *
 * Strategy (greedy, no backtracking): for each environment, requirements are taken breadth
 * first from the roots. A project gets the newest release that satisfies every specifier seen
 * for it so far (PEP 440 pre-release rules), that has a file the environment can install
 * (wheel tags, requires-python, not yanked unless pinned with ==/===) and whose metadata's
 * Requires-Python admits the interpreter; then its Requires-Dist are followed, markers
 * evaluated for the environment with the requested extras. A later requirement the chosen
 * release does not satisfy triggers one re-choice over all specifiers seen (specifiers only
 * accumulate, so this terminates); when no release satisfies them all, the conflict is
 * reported in `unsatisfiable` rather than searched for. Dependencies of a replaced choice stay
 * in: carrying a little more is harmless. A project is expanded again only for a new release
 * or new extras, so cycles terminate.
 *
 * `versions: all` / `{ latest: N }` carry more releases of the root projects: each extra
 * release is resolved as its own pinned root (with the other roots naming its project only),
 * so it comes with its own closure.
 * The union over environments is what gets carried.
 */
import pLimit from 'p-limit';
import { LruCache } from '../lru-cache.js';
import { parseCoreMetadata, type DistributionMetadata } from '../upstream/core-metadata.js';
import { evaluateMarker, markerEnvironmentFor, type Requirement } from '../upstream/pep508.js';
import type { PypiFile } from '../upstream/pypi-file.js';
import { supportedTags } from '../upstream/wheel-tags.js';
import type { TargetEnvironment } from './environments.js';
import { groupReleases, type ProjectRelease, type SdistPolicy } from './python-candidates.js';
import {
  resolveEnvironment,
  type EnvironmentResolution,
  type ResolverCache,
  type Unsatisfiable,
} from './python-environment.js';

export type { ChosenRelease, EnvironmentResolution, Unsatisfiable } from './python-environment.js';

export type VersionsPolicy = 'newest' | 'all' | { latest: number };

export interface PythonClosureInput {
  roots: readonly Requirement[];
  /** `-c` constraints: bound the versions of projects something requires, never add one. */
  constraints?: readonly Requirement[];
  environments: readonly TargetEnvironment[];
  /** The project page's files, or undefined when the index has no such project. */
  loadProject: (normalizedName: string) => Promise<{ files: PypiFile[] } | undefined>;
  /**
   * METADATA text for a file: its PEP 658 file, or read from the downloaded wheel
   * (readWheelMetadata). Errors propagate unchanged (a NetworkError stays exit 3).
   */
  loadMetadata: (file: PypiFile) => Promise<string>;
  versions: VersionsPolicy;
  sdists: SdistPolicy;
}

/**
 * One file to carry, keyed by its file name in `PythonClosure.files`. Its PypiFile is on the
 * project's page: a closure of 200,000 files does not hold 200,000 parsed index entries.
 */
export interface CarriedFile {
  project: string;
  version: string;
  /** Yanked (PEP 592): carried only because an exact pin chose it. */
  yanked: boolean;
  /** 'env-name: alpha[fast] -> epsilon', one per environment and dependent. */
  reasons: string[];
}

export interface PythonClosure {
  /** Per environment name: project -> chosen release and the files it needs. */
  environments: Map<string, EnvironmentResolution>;
  /** The union to carry, by file name. */
  files: Map<string, CarriedFile>;
  unsatisfiable: Unsatisfiable[];
}

/**
 * Project releases and METADATA, loaded once while in use. Both caches are bounded: a
 * 200,000-release closure must not hold 200,000 parsed METADATA, and a miss costs little (the
 * project page stays with the page loader; METADATA is read back from the workspace, where
 * the loader stored it, not fetched again). Extra releases are resolved project by project,
 * so recently used entries are the ones asked for again.
 */
function createCache(input: PythonClosureInput): ResolverCache {
  const projects = new LruCache<string, Promise<ProjectRelease[] | undefined>>(PROJECTS_CACHED);
  const metadata = new LruCache<string, Promise<DistributionMetadata>>(METADATA_CACHED);
  return {
    releases(project) {
      let entry = projects.get(project);
      if (!entry) {
        entry = input
          .loadProject(project)
          .then((page) => page && groupReleases(project, page.files));
        projects.set(project, entry);
      }
      return entry;
    },
    metadata(file) {
      let entry = metadata.get(file.url);
      if (!entry) {
        entry = input.loadMetadata(file).then(parseCoreMetadata);
        metadata.set(file.url, entry);
      }
      return entry;
    },
  };
}

const PROJECTS_CACHED = 64;
const METADATA_CACHED = 4096;

/** Extra root releases resolved at once (each may fetch metadata over the network). */
const EXTRA_RELEASES_AT_ONCE = 16;
/** Extra root releases whose resolutions are held before their files are added. */
const EXTRA_RELEASES_WINDOW = 512;

export async function resolvePythonClosure(input: PythonClosureInput): Promise<PythonClosure> {
  const cache = createCache(input);
  const intern = createInterner();
  const closure: PythonClosure = { environments: new Map(), files: new Map(), unsatisfiable: [] };
  for (const env of input.environments) {
    if (env.python === undefined) continue;
    const markers = markerEnvironmentFor(env);
    const context = {
      env,
      markers,
      target: { tags: supportedTags(env), pythonFull: markers.python_full_version },
      cache,
      sdists: input.sdists,
      constraints: input.constraints ?? [],
    };
    const roots = input.roots.filter((r) => !r.marker || evaluateMarker(r.marker, context.markers));
    const main = await resolveEnvironment(context, roots);
    closure.environments.set(env.name, main.resolution);
    closure.unsatisfiable.push(...main.unsatisfiable);
    addFiles(closure, env.name, main.resolution, intern);

    // Each extra release resolves on its own (only the shared cache is touched), so they run
    // side by side: with `versions: all` that is what keeps hundreds of metadata fetches from
    // queueing one after another. Files are added in release order, so the plan is stable.
    // They are taken a window at a time so that 200,000 releases never hold 200,000
    // resolutions in memory at once.
    const rootsOf = rootsByProject(roots);
    const limit = pLimit(EXTRA_RELEASES_AT_ONCE);
    const resolveWindow = async (window: Pinned[]) => {
      const extras = await Promise.all(
        window.map((pinned) =>
          limit(() => resolveEnvironment(context, rootsOf.get(pinned.project) ?? [], pinned)),
        ),
      );
      extras.forEach((extra, i) => {
        const pinned = window[i]!;
        // A release another environment's Python cannot install is simply not carried for it.
        if (extra.resolution.get(pinned.project)?.version === pinned.version) {
          addFiles(closure, env.name, extra.resolution, intern);
        }
      });
    };
    let window: Pinned[] = [];
    for await (const pinned of extraRootReleases(input, cache, roots, main.resolution)) {
      window.push(pinned);
      if (window.length < EXTRA_RELEASES_WINDOW) continue;
      await resolveWindow(window);
      window = [];
    }
    await resolveWindow(window);
  }
  return closure;
}

interface Pinned {
  project: string;
  version: string;
}

/**
 * An extra release brings its own closure: only the roots naming its project are resolved
 * with it. Resolving every root again per extra release made 2,000 roots with 100 releases
 * each cost 200,000 × 2,000 resolutions.
 */
function rootsByProject(roots: readonly Requirement[]): Map<string, Requirement[]> {
  const byProject = new Map<string, Requirement[]>();
  for (const root of roots) {
    const list = byProject.get(root.normalizedName) ?? [];
    list.push(root);
    byProject.set(root.normalizedName, list);
  }
  return byProject;
}

/**
 * The root releases beyond the resolved one that `versions` asks for, newest first, yielded
 * one at a time (200,000 of them are not held at once).
 */
async function* extraRootReleases(
  input: PythonClosureInput,
  cache: ResolverCache,
  roots: readonly Requirement[],
  resolution: EnvironmentResolution,
): AsyncGenerator<Pinned> {
  if (input.versions === 'newest') return;
  const limit = input.versions === 'all' ? Infinity : input.versions.latest;
  for (const root of roots) {
    const releases = (await cache.releases(root.normalizedName)) ?? [];
    const matching = root.specifier.filter(releases, (r) => r.version);
    for (const release of matching.slice(0, limit)) {
      if (resolution.get(root.normalizedName)?.version === release.version) continue;
      if (release.files.every((f) => f.yanked !== false)) continue;
      yield { project: root.normalizedName, version: release.version };
    }
  }
}

/**
 * One string per distinct reason, and one array per distinct list of them: 200,000 carried
 * files mostly share a handful of chains, and must not each hold their own copies.
 */
interface Interner {
  (text: string): string;
  list(items: string[]): string[];
}

function createInterner(): Interner {
  const strings = new Map<string, string>();
  const lists = new Map<string, string[]>();
  const intern = (text: string): string => {
    const known = strings.get(text);
    if (known !== undefined) return known;
    strings.set(text, text);
    return text;
  };
  intern.list = (items: string[]): string[] => {
    const key = items.join('\n');
    const known = lists.get(key);
    if (known !== undefined) return known;
    lists.set(key, items);
    return items;
  };
  return intern;
}

function addFiles(
  closure: PythonClosure,
  envName: string,
  resolution: EnvironmentResolution,
  intern: Interner,
): void {
  for (const [project, chosen] of resolution) {
    const reasons = [
      ...new Set(chosen.chains.map((chain) => intern(`${envName}: ${chain.join(' -> ')}`))),
    ];
    for (const file of chosen.files) {
      const carried = closure.files.get(file.filename);
      if (carried === undefined) {
        closure.files.set(file.filename, {
          project,
          version: chosen.version,
          yanked: file.yanked !== false,
          reasons: intern.list(reasons),
        });
        continue;
      }
      const added = reasons.filter((r) => !carried.reasons.includes(r));
      // Reason lists are shared between files: never grown in place.
      if (added.length > 0) carried.reasons = intern.list([...carried.reasons, ...added]);
    }
  }
}
