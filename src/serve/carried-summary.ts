/**
 * What a snapshot carries for the landing page: the R minors of its Linux binaries and the
 * Python interpreters and platforms of its wheels, so a visitor sees whether their R or their
 * laptop's Python is served before trying an install. Read from the snapshot's index once per
 * document (documents never change).
 */
import { rMinorOfVariant, type Variant } from '../model.js';
import { wheelFilenameTags } from '../upstream/wheel-tags.js';

export interface CarriedSummary {
  /** R minors with binaries ('4.3'), sorted. */
  rMinors: string[];
  /** Interpreter tags of the wheels ('cp311', 'py3'), sorted. */
  pythonTags: string[];
  /** Platform tags of the wheels ('manylinux_2_17_x86_64', 'win_amd64', 'any'), sorted. */
  platforms: string[];
  /** Source distributions (sdists) among the files. */
  sdists: number;
  wheels: number;
}

export function summarizeCarried(
  variants: Iterable<Variant>,
  packages: Iterable<string>,
): CarriedSummary {
  const rMinors = new Set<string>();
  for (const variant of variants) {
    const minor = rMinorOfVariant(variant);
    if (minor) rMinors.add(minor);
  }
  const pythonTags = new Set<string>();
  const platforms = new Set<string>();
  let wheels = 0;
  let sdists = 0;
  for (const path of packages) {
    const name = path.slice(path.lastIndexOf('/') + 1);
    const tags = wheelFilenameTags(name);
    if (tags) {
      wheels += 1;
      for (const tag of tags) {
        pythonTags.add(tag.python);
        platforms.add(tag.platform);
      }
    } else if (/\.(tar\.gz|zip|tgz|tar\.bz2)$/.test(name)) sdists += 1;
  }
  const byVersion = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });
  return {
    rMinors: [...rMinors].sort(byVersion),
    pythonTags: [...pythonTags].sort(byVersion),
    platforms: [...platforms].sort(),
    sdists,
    wheels,
  };
}
