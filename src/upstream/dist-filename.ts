/**
 * What a distribution file name says: a wheel's name, version and tags (wheel spec / PEP 427),
 * or an sdist's name and version. Names are returned as spelled in the file name; compare
 * them with normalizeProjectName().
 */
import { normalizeProjectName } from '../model.js';

export interface WheelTags {
  python: string[];
  abi: string[];
  platform: string[];
}

export type DistFilename =
  | { kind: 'wheel'; name: string; version: string; build?: string; tags: WheelTags }
  | { kind: 'sdist'; name: string; version: string; ext: string }
  | { kind: 'other' };

// Archive formats pip accepts as source distributions.
const SDIST_EXTENSIONS = [
  '.tar.lzma', '.tar.bz2', '.tar.gz', '.tar.xz', '.tar.lz', '.tar', '.tbz', '.tgz', '.tlz', '.txz',
  '.zip',
]; // prettier-ignore

/**
 * Classifies a file name. `project`, when known, settles ambiguous sdist names
 * ('foo-2-1.0.tar.gz' of project 'foo-2'); without it the split is at the last '-' that is
 * followed by a digit.
 */
export function classifyFilename(filename: string, project?: string): DistFilename {
  if (filename.toLowerCase().endsWith('.whl')) return classifyWheel(filename.slice(0, -4));
  const lower = filename.toLowerCase();
  const ext = SDIST_EXTENSIONS.find((candidate) => lower.endsWith(candidate));
  if (ext === undefined) return { kind: 'other' };
  const stem = filename.slice(0, -ext.length);
  const split = splitByProject(stem, project) ?? splitAtVersion(stem);
  if (split === undefined) return { kind: 'other' };
  return { kind: 'sdist', name: stem.slice(0, split), version: stem.slice(split + 1), ext };
}

// {distribution}-{version}(-{build tag})?-{python tag}-{abi tag}-{platform tag}.whl
function classifyWheel(stem: string): DistFilename {
  const parts = stem.split('-');
  if (parts.length !== 5 && parts.length !== 6) return { kind: 'other' };
  if (parts.some((part) => part === '')) return { kind: 'other' };
  const [name, version] = parts as [string, string];
  const [python, abi, platform] = parts.slice(-3) as [string, string, string];
  const tags = { python: python.split('.'), abi: abi.split('.'), platform: platform.split('.') };
  if (parts.length === 5) return { kind: 'wheel', name, version, tags };
  const build = parts[2] as string;
  // The build tag must start with a digit (wheel spec).
  if (!/^\d/.test(build)) return { kind: 'other' };
  return { kind: 'wheel', name, version, build, tags };
}

function splitByProject(stem: string, project: string | undefined): number | undefined {
  if (project === undefined) return undefined;
  const wanted = normalizeProjectName(project);
  for (let dash = stem.indexOf('-'); dash !== -1; dash = stem.indexOf('-', dash + 1)) {
    if (dash < stem.length - 1 && normalizeProjectName(stem.slice(0, dash)) === wanted) return dash;
  }
  return undefined;
}

function splitAtVersion(stem: string): number | undefined {
  for (let dash = stem.lastIndexOf('-'); dash > 0; dash = stem.lastIndexOf('-', dash - 1)) {
    if (/\d/.test(stem[dash + 1] ?? '')) return dash;
  }
  return undefined;
}
