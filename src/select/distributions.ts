/**
 * Linux distributions a target environment can run, with the libc each ships: wheel selection
 * needs the glibc version (manylinux_2_N) or musl (musllinux), and cran-binary sources are
 * keyed by the distribution's code name.
 */

export interface DistributionLibc {
  libc: 'glibc' | 'musl';
  /** 'glibc 2.35' -> '2.35'; musl '1.2'. */
  version: string;
}

// Aliases share an entry: Connect image tags use both 'jammy' and 'ubuntu2204'.
const GLIBC: Record<string, string> = {
  focal: '2.31',
  ubuntu2004: '2.31',
  jammy: '2.35',
  ubuntu2204: '2.35',
  noble: '2.39',
  ubuntu2404: '2.39',
  bullseye: '2.31',
  debian11: '2.31',
  bookworm: '2.36',
  debian12: '2.36',
  rhel8: '2.28',
  centos8: '2.28',
  rocky8: '2.28',
  almalinux8: '2.28',
  rhel9: '2.34',
  centos9: '2.34',
  rocky9: '2.34',
  almalinux9: '2.34',
  opensuse15: '2.31',
};

export const KNOWN_DISTRIBUTIONS: readonly string[] = [...Object.keys(GLIBC), 'alpine3.x'];

/** The libc of a distribution name ('jammy', 'alpine3.19'), or undefined when unknown. */
export function distributionLibc(distribution: string): DistributionLibc | undefined {
  const name = distribution.toLowerCase();
  const glibc = GLIBC[name];
  if (glibc !== undefined) return { libc: 'glibc', version: glibc };
  // Every Alpine since 3.13 ships musl 1.2.
  if (/^alpine(3(\.\d+)?)?$/.test(name)) return { libc: 'musl', version: '1.2' };
  return undefined;
}

/**
 * The distribution named in a container image reference: a known name among the tag's or
 * repository's '-'/'_'/'/'-separated words ('rstudio/content-base:r4.1.0-py3.9.2-jammy' ->
 * 'jammy', 'my/img:py3.11-ubuntu2204' -> 'ubuntu2204'), or undefined.
 */
export function distributionFromImage(image: string): string | undefined {
  const words = image
    .toLowerCase()
    .split(/[-_/:@]/)
    .reverse();
  return words.find((word) => distributionLibc(word) !== undefined);
}
