/**
 * The core metadata of an sdist (.tar.gz) on disk, with dependencies a resolver can trust.
 * Streamed: nothing is extracted, and only a few small entries are kept.
 *
 * PEP 643: only a PKG-INFO of Metadata-Version 2.2 or later without `Dynamic: Requires-Dist`
 * is authoritative. Older setuptools sdists (Jinja2 3.1.2, requests-toolbelt 1.0.0) list no
 * Requires-Dist in PKG-INFO at all and keep them in `*.egg-info/requires.txt`; trusting
 * PKG-INFO carried them without their dependencies. So the dependencies come from, in order:
 * the authoritative PKG-INFO; `requires.txt`; Requires-Dist lines PKG-INFO does have; an
 * egg-info directory without `requires.txt` (setuptools writes none when there are no
 * requirements); static `pyproject.toml` [project] metadata; `setup.cfg` [options]. Else they
 * are unknown, and the caller reports the file.
 */
import { list, type ReadEntry } from 'tar';
import { IntegrityError } from '../errors.js';
import { parseRequiresTxt, type StaticRequirements } from '../upstream/egg-requires.js';
import { parsePyprojectDependencies } from '../upstream/pyproject-toml.js';
import { parseSetupCfg } from '../upstream/setup-cfg.js';

export interface SdistMetadata {
  /** METADATA text: PKG-INFO's headers, with Requires-Dist/Provides-Extra from `from`. */
  text: string;
  /** Where the dependencies were read. */
  from: string;
  /** Set when no source of dependencies could be trusted: why. */
  unknown?: string;
}

const MAX_ENTRY = 4 * 1024 * 1024;

/** Members read, by role; an egg-info may sit under src/ (Jinja2's src layout). */
const WANTED: Array<[keyof Members, RegExp]> = [
  ['pkgInfo', /^[^/]+\/PKG-INFO$/],
  ['requiresTxt', /^[^/]+\/(?:[^/]+\/)?[^/]+\.egg-info\/requires\.txt$/],
  ['eggPkgInfo', /^[^/]+\/(?:[^/]+\/)?[^/]+\.egg-info\/PKG-INFO$/],
  ['pyproject', /^[^/]+\/pyproject\.toml$/],
  ['setupCfg', /^[^/]+\/setup\.cfg$/],
];

interface Members {
  pkgInfo?: string;
  requiresTxt?: string;
  eggPkgInfo?: string;
  pyproject?: string;
  setupCfg?: string;
}

export async function readSdistMetadata(path: string, filename: string): Promise<SdistMetadata> {
  const members = await readMembers(path, filename);
  if (members.pkgInfo === undefined) {
    throw new IntegrityError(`${filename} has no {name}-{version}/PKG-INFO`, {
      code: 'ESDIST',
      hint: 'the sdist does not follow the sdist format: its dependencies cannot be read',
    });
  }
  return sdistMetadata(members.pkgInfo, members);
}

/** Decides whose dependencies to trust (see the top of this file). */
export function sdistMetadata(pkgInfo: string, members: Members): SdistMetadata {
  if (isAuthoritative(pkgInfo)) return { text: pkgInfo, from: 'PKG-INFO' };
  const own = headerValues(pkgInfo);
  const candidates: Array<[string, () => StaticRequirements | undefined]> = [
    ['egg-info/requires.txt', () => ifText(members.requiresTxt, parseRequiresTxt)],
    [
      'PKG-INFO',
      () =>
        own.requiresDist.length > 0
          ? { requiresDist: own.requiresDist, providesExtra: own.providesExtra }
          : undefined,
    ],
    [
      'egg-info without requires.txt',
      () =>
        members.eggPkgInfo !== undefined && members.requiresTxt === undefined
          ? { requiresDist: [], providesExtra: [] }
          : undefined,
    ],
    ['pyproject.toml', () => ifText(members.pyproject, parsePyprojectDependencies)],
    ['setup.cfg', () => ifText(members.setupCfg, parseSetupCfg)],
  ];
  for (const [from, read] of candidates) {
    const found = read();
    if (found) return { text: withRequirements(pkgInfo, found), from };
  }
  return {
    text: withRequirements(pkgInfo, { requiresDist: [], providesExtra: [] }),
    from: 'nowhere',
    unknown:
      'PKG-INFO is not authoritative for dependencies (Metadata-Version below 2.2, or Requires-Dist dynamic) ' +
      'and the sdist has no egg-info requires.txt nor static pyproject.toml or setup.cfg dependencies',
  };
}

function ifText<T>(text: string | undefined, parse: (t: string) => T): T | undefined {
  return text === undefined ? undefined : parse(text);
}

/** PEP 643: Metadata-Version 2.2+ and Requires-Dist not marked Dynamic. */
export function isAuthoritative(pkgInfo: string): boolean {
  const h = headerValues(pkgInfo);
  const [major = 0, minor = 0] = (h.metadataVersion ?? '').split('.').map(Number);
  if (major < 2 || (major === 2 && minor < 2)) return false;
  return !h.dynamic.includes('requires-dist');
}

async function readMembers(path: string, filename: string): Promise<Members> {
  const chunks = new Map<keyof Members, Buffer[]>();
  try {
    await list({
      file: path,
      onReadEntry: (entry: ReadEntry) => {
        if (entry.size > MAX_ENTRY) return;
        const role = WANTED.find(([, re]) => re.test(entry.path))?.[0];
        // The first (shallowest in a setuptools sdist) of each kind.
        if (role === undefined || chunks.has(role)) return;
        const parts: Buffer[] = [];
        chunks.set(role, parts);
        entry.on('data', (chunk: Buffer) => parts.push(chunk));
      },
    });
  } catch (err) {
    throw new IntegrityError(`${filename}: not a readable .tar.gz: ${(err as Error).message}`, {
      code: 'ESDIST',
      hint: 'the sdist is corrupt upstream: its dependencies cannot be read',
    });
  }
  const members: Members = {};
  for (const [role, parts] of chunks) members[role] = Buffer.concat(parts).toString('utf8');
  return members;
}

interface Headers {
  metadataVersion?: string;
  dynamic: string[];
  requiresDist: string[];
  providesExtra: string[];
}

function headerValues(text: string): Headers {
  const h: Headers = { dynamic: [], requiresDist: [], providesExtra: [] };
  for (const [key, value] of headerLines(text)) {
    if (key === 'metadata-version') h.metadataVersion = value;
    else if (key === 'dynamic') h.dynamic.push(value.toLowerCase());
    else if (key === 'requires-dist') h.requiresDist.push(value);
    else if (key === 'provides-extra') h.providesExtra.push(value);
  }
  return h;
}

/** The header block's fields (continuation lines joined), up to the first empty line. */
function headerLines(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (line === '') break;
    const last = out.at(-1);
    if (/^[ \t]/.test(line) && last) {
      last[1] += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon > 0)
      out.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  return out;
}

/** PKG-INFO's headers with its Requires-Dist and Provides-Extra replaced; no body. */
function withRequirements(pkgInfo: string, found: StaticRequirements): string {
  const kept = headerLines(pkgInfo)
    .filter(([key]) => key !== 'requires-dist' && key !== 'provides-extra')
    .map(([key, value]) => `${key}: ${value}`);
  const extras = found.providesExtra.map((e) => `provides-extra: ${e}`);
  const requires = found.requiresDist.map((r) => `requires-dist: ${r}`);
  return `${[...kept, ...extras, ...requires].join('\n')}\n\n`;
}
