/**
 * Static dependencies from an sdist's `setup.cfg` (setuptools' declarative config):
 * `[options] install_requires` and `[options.extras_require]`. Undefined when the file does
 * not declare them, or declares them in a way only setuptools can evaluate (`file:`, `attr:`).
 */
import { withCondition, type StaticRequirements } from './egg-requires.js';

export function parseSetupCfg(text: string): StaticRequirements | undefined {
  const sections = readIni(text);
  const install = sections.get('options')?.get('install_requires');
  const extras = sections.get('options.extras_require');
  if (install === undefined && extras === undefined) return undefined;
  const values = [install ?? '', ...(extras?.values() ?? [])];
  if (values.some((v) => /^\s*(file|attr):/.test(v))) return undefined;
  const requiresDist = requirementList(install ?? '');
  const providesExtra: string[] = [];
  for (const [extra, value] of extras ?? []) {
    providesExtra.push(extra);
    for (const r of requirementList(value))
      requiresDist.push(withCondition(r, `extra == "${extra}"`));
  }
  return { requiresDist, providesExtra };
}

/**
 * One requirement per line (setuptools' "dangling list"); a value on one line is one
 * requirement, since its `;` may start a marker.
 */
function requirementList(value: string): string[] {
  return value
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** configparser's shape: `[section]`, `key = value` or `key: value`, indented continuations. */
function readIni(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  let key: string | undefined;
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (/^\s*[#;]/.test(line)) continue;
    if (/^\s+\S/.test(line) && current && key !== undefined) {
      current.set(key, `${current.get(key)}\n${line.trim()}`);
      continue;
    }
    const header = /^\[([^\]]+)\]\s*$/.exec(line);
    if (header) {
      const name = header[1]!.trim();
      current = sections.get(name) ?? new Map<string, string>();
      sections.set(name, current);
      key = undefined;
      continue;
    }
    const pair = /^([^=:\s][^=:]*?)\s*[=:]\s*(.*)$/.exec(line);
    if (pair && current) {
      // configparser lower-cases keys; setuptools also accepts dashes for underscores.
      key = pair[1]!.trim().toLowerCase().replace(/-/g, '_');
      current.set(key, pair[2]!.trim());
    }
  }
  return sections;
}
