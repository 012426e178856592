/**
 * Wheel compatibility tags (PEP 425, PEP 600, PEP 656): the ordered tags a CPython on Linux
 * accepts, built the way `packaging.tags.sys_tags()` builds them, and matching of a wheel
 * file name's (possibly compressed) tags against them.
 */

/** What wheel selection needs to know about a target: CPython version, machine and libc. */
export interface PythonPlatform {
  /** '3.11' or '3.11.4' */
  python?: string;
  arch: 'x86_64' | 'aarch64';
  libc: 'glibc' | 'musl';
  /** glibc version of the distribution ('2.35'); required when libc is glibc. */
  glibc?: string;
  /** musl version ('1.2'); defaults to 1.2 when libc is musl. */
  musl?: string;
}

export interface WheelTag {
  python: string;
  abi: string;
  platform: string;
}

/** Tags in order of preference: index 0 is the most specific tag the interpreter accepts. */
export interface WheelTagSet {
  ordered: readonly string[];
  /** 'py-abi-platform' -> its rank (index in `ordered`). */
  rank: ReadonlyMap<string, number>;
}

export function tagKey(tag: WheelTag): string {
  return `${tag.python}-${tag.abi}-${tag.platform}`;
}

export function supportedTags(env: PythonPlatform): WheelTagSet {
  if (env.python === undefined) throw new TypeError('supportedTags needs a Python version');
  const [major, minor] = env.python.split('.').map(Number) as [number, number];
  if (major !== 3) throw new TypeError(`only CPython 3 is supported, not ${env.python}`);
  const platforms = linuxPlatforms(env);
  const ordered: string[] = [];
  const add = (python: string, abi: string, platform: string) =>
    ordered.push(`${python}-${abi}-${platform}`);
  const cp = `cp3${minor}`;

  for (const p of platforms) add(cp, cp, p);
  // abi3 exists since CPython 3.2; an abi3 wheel built for an older minor still loads.
  if (minor >= 2) for (const p of platforms) add(cp, 'abi3', p);
  for (const p of platforms) add(cp, 'none', p);
  for (let m = minor - 1; m >= 2; m--) for (const p of platforms) add(`cp3${m}`, 'abi3', p);

  const pyRange = [`py3${minor}`, 'py3'];
  for (let m = minor - 1; m >= 0; m--) pyRange.push(`py3${m}`);
  for (const py of pyRange) for (const p of platforms) add(py, 'none', p);
  add(cp, 'none', 'any');
  for (const py of pyRange) add(py, 'none', 'any');

  return { ordered, rank: new Map(ordered.map((tag, i) => [tag, i])) };
}

// packaging's legacy manylinux names: PEP 513, 571, 599.
const LEGACY_MANYLINUX: Record<string, string> = {
  '2_17': 'manylinux2014',
  '2_12': 'manylinux2010',
  '2_5': 'manylinux1',
};

/**
 * Platform tags, most specific first: manylinux_2_N for every glibc from the target's down
 * to the oldest manylinux for the machine (2.5 on x86_64, 2.17 on aarch64, as packaging
 * does), each followed by its legacy alias; musllinux_1_N for musl; then linux_<arch>.
 */
export function linuxPlatforms(env: PythonPlatform): string[] {
  const platforms: string[] = [];
  if (env.libc === 'musl') {
    const [, muslMinor] = (env.musl ?? '1.2').split('.').map(Number) as [number, number];
    for (let m = muslMinor; m >= 0; m--) platforms.push(`musllinux_1_${m}_${env.arch}`);
  } else {
    if (env.glibc === undefined) throw new TypeError('a glibc target needs its glibc version');
    const [, glibcMinor] = env.glibc.split('.').map(Number) as [number, number];
    const oldest = env.arch === 'x86_64' ? 5 : 17;
    for (let m = glibcMinor; m >= oldest; m--) {
      platforms.push(`manylinux_2_${m}_${env.arch}`);
      const legacy = LEGACY_MANYLINUX[`2_${m}`];
      // manylinux1 and manylinux2010 were only defined for x86_64 and i686.
      if (legacy && (env.arch === 'x86_64' || legacy === 'manylinux2014')) {
        platforms.push(`${legacy}_${env.arch}`);
      }
    }
  }
  platforms.push(`linux_${env.arch}`);
  return platforms;
}

/**
 * The tags of a wheel file name, with compressed tag sets expanded
 * ('py2.py3-none-any' -> py2-none-any, py3-none-any). Undefined when it is not a wheel name.
 */
export function wheelFilenameTags(filename: string): WheelTag[] | undefined {
  if (!filename.endsWith('.whl')) return undefined;
  const parts = filename.slice(0, -4).split('-');
  // name-version[-build]-python-abi-platform
  if (parts.length !== 5 && parts.length !== 6) return undefined;
  const [pythons, abis, platforms] = parts.slice(-3) as [string, string, string];
  const tags: WheelTag[] = [];
  for (const python of pythons.split('.')) {
    for (const abi of abis.split('.')) {
      for (const platform of platforms.split('.')) tags.push({ python, abi, platform });
    }
  }
  return tags;
}

/** Whether any of the wheel's tags is one the target accepts. */
export function wheelMatches(filenameTags: readonly WheelTag[], tagSet: WheelTagSet): boolean {
  return bestWheelRank(filenameTags, tagSet) !== undefined;
}

/**
 * The wheel's best (lowest) rank in the target's preference order, or undefined when the
 * target cannot install it. Installers pick the compatible wheel with the lowest rank.
 */
export function bestWheelRank(
  filenameTags: readonly WheelTag[],
  tagSet: WheelTagSet,
): number | undefined {
  let best: number | undefined;
  for (const tag of filenameTags) {
    const rank = tagSet.rank.get(tagKey(tag).toLowerCase());
    if (rank !== undefined && (best === undefined || rank < best)) best = rank;
  }
  return best;
}
