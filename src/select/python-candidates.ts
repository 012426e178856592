/**
 * A PyPI project's files grouped into releases, and which of a release's files one target
 * environment would install: the best-ranked wheel its tags accept, and/or the sdist, after
 * `requires-python` and yanked checks.
 */
import { classifyFilename } from '../upstream/dist-filename.js';
import {
  compareVersions,
  parseSpecifierSet,
  parseVersion,
  type Version,
} from '../upstream/pep440.js';
import type { PypiFile } from '../upstream/pypi-file.js';
import { bestWheelRank, wheelFilenameTags, type WheelTagSet } from '../upstream/wheel-tags.js';

export interface ProjectRelease {
  /** As the file names spell it. */
  version: string;
  parsed: Version;
  files: PypiFile[];
}

export type SdistPolicy = 'auto' | 'always' | 'never';

/**
 * Groups a project's distributions by version, newest first. Files whose names do not parse,
 * or whose version is not PEP 440 (legacy), are left out: no specifier but '===' could select
 * them, and pip ignores them too.
 */
export function groupReleases(project: string, files: readonly PypiFile[]): ProjectRelease[] {
  const byVersion = new Map<string, ProjectRelease>();
  for (const file of files) {
    const dist = classifyFilename(file.filename, project);
    if (dist.kind === 'other') continue;
    const parsed = parseVersion(dist.version);
    if (!parsed) continue;
    const key = JSON.stringify(parsed);
    const release = byVersion.get(key) ?? { version: dist.version, parsed, files: [] };
    release.files.push(file);
    byVersion.set(key, release);
  }
  const releases = [...byVersion.values()].sort((a, b) => compareVersions(b.parsed, a.parsed));
  // An array grown by push keeps room for 16 more: 200,000 one-file releases would hold 30 MB
  // of empty slots. A copy is exactly as long as its contents.
  for (const release of releases) release.files = release.files.slice();
  return releases;
}

export interface EnvironmentTarget {
  tags: WheelTagSet;
  /** The interpreter's full version ('3.11.0'), for requires-python. */
  pythonFull: string;
}

export interface FileChoiceOptions {
  sdists: SdistPolicy;
  /** Yanked files count only for an exact pin (PEP 592). */
  allowYanked: boolean;
}

/** True when the file's `requires-python` admits the interpreter (an invalid one is ignored, as pip does). */
export function requiresPythonAllows(
  requiresPython: string | undefined,
  pythonFull: string,
): boolean {
  if (requiresPython === undefined || requiresPython.trim() === '') return true;
  try {
    return parseSpecifierSet(requiresPython).contains(pythonFull, { prereleases: true });
  } catch {
    return true;
  }
}

/**
 * The files of a release the environment needs, best wheel first; undefined when it can
 * install none of them. `sdists: auto` adds the sdist only when no wheel fits.
 */
export function filesForEnvironment(
  release: ProjectRelease,
  target: EnvironmentTarget,
  options: FileChoiceOptions,
): PypiFile[] | undefined {
  let wheel: { file: PypiFile; rank: number } | undefined;
  let sdist: PypiFile | undefined;
  for (const file of release.files) {
    if (file.yanked !== false && !options.allowYanked) continue;
    if (!requiresPythonAllows(file.requiresPython, target.pythonFull)) continue;
    const tags = wheelFilenameTags(file.filename);
    if (tags) {
      const rank = bestWheelRank(tags, target.tags);
      if (rank !== undefined && (!wheel || rank < wheel.rank)) wheel = { file, rank };
    } else if (
      !sdist ||
      (file.filename.endsWith('.tar.gz') && !sdist.filename.endsWith('.tar.gz'))
    ) {
      sdist = file;
    }
  }
  const chosen: PypiFile[] = [];
  if (wheel) chosen.push(wheel.file);
  if (sdist && (options.sdists === 'always' || (options.sdists === 'auto' && !wheel)))
    chosen.push(sdist);
  return chosen.length > 0 ? chosen : undefined;
}
