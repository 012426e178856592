/**
 * CRAN-like repository indexes (`src/contrib/PACKAGES`): CRAN, Bioconductor, Package Manager,
 * any repository R's available.packages() reads. Pure parsing: the caller fetches the bytes.
 */
import { IntegrityError } from '../errors.js';
import { parseDcf, type DcfStanza } from './dcf.js';
import { isRVersion, parseDependencyField, type RDependency } from './r-dependency.js';

export type { DcfStanza } from './dcf.js';
export {
  compareRVersions,
  parseDependencyField,
  satisfiesR,
  type RConstraint,
  type RDependency,
  type RVersionOp,
} from './r-dependency.js';

export interface CranPackage {
  name: string;
  version: string;
  depends: RDependency[];
  imports: RDependency[];
  linkingTo: RDependency[];
  suggests: RDependency[];
  /** `MD5sum`, lowercase hex, when the index publishes it. */
  md5?: string;
  /** `Size` in bytes, when the index publishes it. */
  size?: number;
  /** `Priority` ('base', 'recommended') when present. */
  priority?: string;
  /** The file name: the `File` field when present, else '{name}_{version}.tar.gz'. */
  file: string;
  /** The `Path` field: a subdirectory of src/contrib the file lives in (Package Manager). */
  path?: string;
  stanza: DcfStanza;
}

export interface CranIndex {
  /** In index order. */
  packages: CranPackage[];
  /** Every entry of a name, in index order (an index may list a name more than once). */
  byName: Map<string, CranPackage[]>;
}

/** Packages that ship with R itself: never downloaded, always satisfied. */
export const R_BASE_PACKAGES: ReadonlySet<string> = new Set([
  'R', 'base', 'compiler', 'datasets', 'graphics', 'grDevices', 'grid', 'methods', 'parallel',
  'splines', 'stats', 'stats4', 'tcltk', 'tools', 'utils',
]); // prettier-ignore

/** Packages R installations usually ship (r-recommended), though CRAN also serves them. */
export const R_RECOMMENDED_PACKAGES: ReadonlySet<string> = new Set([
  'boot', 'class', 'cluster', 'codetools', 'foreign', 'KernSmooth', 'lattice', 'MASS', 'Matrix',
  'mgcv', 'nlme', 'nnet', 'rpart', 'spatial', 'survival',
]); // prettier-ignore

// Writing R extensions 1.1.1: letters, digits and '.', starting with a letter, not ending in '.'.
const PACKAGE_NAME = /^[A-Za-z](?:[A-Za-z0-9.]*[A-Za-z0-9])?$/;
const MD5_HEX = /^[0-9a-f]{32}$/;
const SIZE = /^\d+$/;

/**
 * Parses a PACKAGES file. `source` (its URL or path) names it in errors. Names, versions and
 * file paths are validated here because they become request and storage paths later.
 */
export function parseCranIndex(text: string, source: string): CranIndex {
  const packages: CranPackage[] = [];
  const byName = new Map<string, CranPackage[]>();
  for (const stanza of parseDcf(text, source)) {
    const pkg = packageFromStanza(stanza, source);
    packages.push(pkg);
    const list = byName.get(pkg.name);
    if (list === undefined) byName.set(pkg.name, [pkg]);
    else list.push(pkg);
  }
  return { packages, byName };
}

function packageFromStanza(stanza: DcfStanza, source: string): CranPackage {
  const fields = stanza.fields;
  const at = `${source}: stanza at line ${stanza.line}`;
  const name = fields.get('Package') ?? '';
  const version = fields.get('Version') ?? '';
  if (!PACKAGE_NAME.test(name)) throw badField(at, 'Package', name);
  if (!isRVersion(version)) throw badField(`${at} (${name})`, 'Version', version);
  const where = `${at} (${name} ${version})`;
  const dependencies = (field: string): RDependency[] =>
    parseDependencyField(fields.get(field) ?? '', `${where}: ${field}`);

  const pkg: CranPackage = {
    name,
    version,
    depends: dependencies('Depends'),
    imports: dependencies('Imports'),
    linkingTo: dependencies('LinkingTo'),
    suggests: dependencies('Suggests'),
    file: fields.get('File') ?? `${name}_${version}.tar.gz`,
    stanza,
  };
  if (!isPlainFileName(pkg.file)) throw badField(where, 'File', pkg.file);

  const md5 = fields.get('MD5sum')?.toLowerCase();
  if (md5 !== undefined) {
    if (!MD5_HEX.test(md5)) throw badField(where, 'MD5sum', md5);
    pkg.md5 = md5;
  }
  const size = fields.get('Size');
  if (size !== undefined) {
    if (!SIZE.test(size)) throw badField(where, 'Size', size);
    pkg.size = Number(size);
  }
  const priority = fields.get('Priority');
  if (priority !== undefined) pkg.priority = priority;
  const path = fields.get('Path')?.replace(/^\.?\/+|\/+$/g, '');
  if (path !== undefined && path !== '') {
    if (!isRelativePath(path)) throw badField(where, 'Path', path);
    pkg.path = path;
  }
  return pkg;
}

function isPlainFileName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\\\0]/.test(name);
}

// A Path of '..' segments or a backslash would let an index point outside the repository.
function isRelativePath(path: string): boolean {
  return !path.includes('\\') && path.split('/').every(isPlainFileName);
}

function badField(where: string, field: string, value: string): IntegrityError {
  const shown = value === '' ? 'is missing' : `has an invalid value ${JSON.stringify(value)}`;
  return new IntegrityError(`${where}: field ${field} ${shown}`, {
    code: 'EINDEX',
    hint: 'the upstream PACKAGES index is damaged or not from an R repository; check the source URL',
  });
}

/**
 * Re-emits stanzas verbatim: each stanza's raw text, one blank line between, a final newline.
 * Separators are '\n' (what R writes); each stanza's own bytes are kept as they came.
 */
export function renderPackages(stanzas: readonly DcfStanza[]): string {
  if (stanzas.length === 0) return '';
  return `${stanzas.map((stanza) => stanza.raw).join('\n\n')}\n`;
}

/**
 * Where a package's file lives relative to the repository root: 'src/contrib/{path/}{file}',
 * or, for an archived version, 'src/contrib/Archive/{name}/{file}' (CRAN's archive layout,
 * which has no Path subdirectories).
 */
export function cranFilePath(pkg: CranPackage, archived: boolean): string {
  if (archived) return `src/contrib/Archive/${pkg.name}/${pkg.file}`;
  return pkg.path === undefined ? `src/contrib/${pkg.file}` : `src/contrib/${pkg.path}/${pkg.file}`;
}
