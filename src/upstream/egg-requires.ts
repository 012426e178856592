/**
 * `*.egg-info/requires.txt`, where setuptools keeps an sdist's dependencies when its PKG-INFO
 * (Metadata-Version below 2.2) does not list them. Requirements before any section apply
 * always; `[extra]`, `[:marker]` and `[extra:marker]` sections add a condition, which is
 * turned back into the Requires-Dist marker it came from.
 */
export interface StaticRequirements {
  requiresDist: string[];
  providesExtra: string[];
}

export function parseRequiresTxt(text: string): StaticRequirements {
  const requiresDist: string[] = [];
  const extras = new Set<string>();
  let condition: string | undefined;
  for (const raw of text.replace(/\r\n?/g, '\n').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const section = /^\[(.*)\]$/.exec(line);
    if (section) {
      const [extra = '', marker = ''] = splitSection(section[1]!);
      if (extra !== '') extras.add(extra);
      condition = sectionMarker(extra, marker);
      continue;
    }
    requiresDist.push(withCondition(line, condition));
  }
  return { requiresDist, providesExtra: [...extras] };
}

/** 'socks:sys_platform == "win32"' → ['socks', 'sys_platform == "win32"']; ':m' → ['', 'm']. */
function splitSection(inner: string): [string, string] {
  const colon = inner.indexOf(':');
  if (colon < 0) return [inner.trim(), ''];
  return [inner.slice(0, colon).trim(), inner.slice(colon + 1).trim()];
}

function sectionMarker(extra: string, marker: string): string | undefined {
  const parts: string[] = [];
  if (marker !== '') parts.push(extra === '' ? marker : `(${marker})`);
  if (extra !== '') parts.push(`extra == "${extra}"`);
  return parts.length === 0 ? undefined : parts.join(' and ');
}

/** A requirement under a section: its own marker (rare here) and the section's, both hold. */
export function withCondition(requirement: string, condition: string | undefined): string {
  if (condition === undefined) return requirement;
  const semi = requirement.indexOf(';');
  if (semi < 0) return `${requirement}; ${condition}`;
  const own = requirement.slice(semi + 1).trim();
  return `${requirement.slice(0, semi).trim()}; (${own}) and ${condition}`;
}
