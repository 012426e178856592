import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntegrityError } from '../../src/errors.js';
import { parseDcf } from '../../src/upstream/dcf.js';
import {
  R_BASE_PACKAGES,
  R_RECOMMENDED_PACKAGES,
  compareRVersions,
  cranFilePath,
  parseCranIndex,
  parseDependencyField,
  renderPackages,
  satisfiesR,
} from '../../src/upstream/cran-index.js';

const run = promisify(execFile);

// CRAN-style stanzas, a Package Manager one with File/Path/Size, tabs and a CRLF stanza.
const PACKAGES = [
  'Package: abind\nVersion: 1.4-5\nDepends: R (>= 1.5.0)\nImports: methods, utils\n' +
    'License: LGPL (>= 2)\nMD5sum: 136F981E1C4F618B64A87FAAA7797C97\nNeedsCompilation: no',
  'Package: BiocGenerics\nVersion: 0.48.1\nDepends: R (>= 4.0.0), methods, utils, graphics,\n' +
    '        stats\nImports: methods, utils, graphics, stats\nSuggests: Biobase, S4Vectors,\n' +
    '\tIRanges, GenomicRanges, DelayedArray, Biostrings, Rsamtools,\n\tAnnotationDbi, ' +
    'affy, affyPLM, DESeq2, flowClust, MSnbase, annotate,\n\tRUnit\nLicense: Artistic-2.0\n' +
    'MD5sum: 2b59c5d7f4bf4b0c7e3bca6b1cd9ab61\nNeedsCompilation: no\nPath: bioc/src/contrib',
  'Package: Matrix\r\nVersion: 1.6-5\r\nPriority: recommended\r\nDepends: R (>= 3.5.0), methods\r\n' +
    'Imports: grDevices, graphics, grid, lattice, stats, utils\r\nLinkingTo:  \r\nSize: 2883409\r\n' +
    'File: Matrix_1.6-5.tar.gz\r\nNeedsCompilation: yes',
  'Package: Rcpp\nVersion: 1.0.12\nImports: methods,utils\nLinkingTo: \nSuggests: tinytest,inline,rbenchmark,pkgKitten(>=0.1.2)\n' +
    'MD5sum: 83f8d2fa4b8c2a4f7a4f0bb4e7b1a1b2',
  'Package: abind\nVersion: 1.4-8\nDepends: R (>= 1.5.0)\nImports: methods, utils',
].join('\n\n');

describe('parseDependencyField', () => {
  it('reads names and constraints with any spacing, newlines and a trailing comma', () => {
    expect(
      parseDependencyField('R (>= 4.0), methods,\n    rlang(>=1.1.0) ,  vctrs (  < 0.7-1 ),'),
    ).toEqual([
      { name: 'R', constraint: { op: '>=', version: '4.0' } },
      { name: 'methods' },
      { name: 'rlang', constraint: { op: '>=', version: '1.1.0' } },
      { name: 'vctrs', constraint: { op: '<', version: '0.7-1' } },
    ]);
  });

  it('reads every operator and an empty field', () => {
    const ops = ['>=', '<=', '>', '<', '==', '!='];
    expect(
      parseDependencyField(ops.map((op, i) => `p${i} (${op} 1.${i})`).join(', ')).map(
        (d) => d.constraint?.op,
      ),
    ).toEqual(ops);
    expect(parseDependencyField('  ')).toEqual([]);
  });

  it('rejects an entry it cannot read, naming where it was', () => {
    expect(() => parseDependencyField('foo (>= 1.0', 'PACKAGES: foo Imports')).toThrow(
      /PACKAGES: foo Imports: cannot parse dependency "foo \(>= 1.0"/,
    );
    expect(() => parseDependencyField('foo (~= 1.0)')).toThrow(IntegrityError);
    expect(() => parseDependencyField('foo (>= one)')).toThrow(IntegrityError);
  });
});

describe('R versions', () => {
  it("orders versions as R's package_version does", () => {
    expect(compareRVersions('1.10', '1.9')).toBeGreaterThan(0);
    expect(compareRVersions('1.0-1', '1.0.1')).toBe(0);
    expect(compareRVersions('1.0', '1.0.0')).toBe(0);
    expect(compareRVersions('1.0', '1.0.1')).toBeLessThan(0);
    expect(compareRVersions('2024.01.15', '2024.1.15')).toBe(0);
    expect(compareRVersions('1.99999999999999999', '2.0')).toBeLessThan(0);
  });

  it('checks constraints', () => {
    expect(satisfiesR('4.3.2', { op: '>=', version: '4.0' })).toBe(true);
    expect(satisfiesR('3.6.3', { op: '>=', version: '4.0' })).toBe(false);
    expect(satisfiesR('1.0-1', { op: '==', version: '1.0.1' })).toBe(true);
    expect(satisfiesR('1.0', { op: '!=', version: '1.0.0' })).toBe(false);
    expect(satisfiesR('0.9', { op: '<', version: '0.10' })).toBe(true);
    expect(satisfiesR('0.9', undefined)).toBe(true);
  });
});

describe('parseCranIndex', () => {
  it('reads CRAN, Bioconductor and Package Manager stanzas', () => {
    const index = parseCranIndex(PACKAGES, 'https://cran.example/src/contrib/PACKAGES');
    expect(index.packages.map((p) => `${p.name} ${p.version}`)).toEqual([
      'abind 1.4-5',
      'BiocGenerics 0.48.1',
      'Matrix 1.6-5',
      'Rcpp 1.0.12',
      'abind 1.4-8',
    ]);
    const [abind, bioc, matrix, rcpp] = index.packages;
    expect(abind).toMatchObject({
      md5: '136f981e1c4f618b64a87faaa7797c97',
      file: 'abind_1.4-5.tar.gz',
    });
    expect(abind!.depends).toEqual([{ name: 'R', constraint: { op: '>=', version: '1.5.0' } }]);
    expect(bioc!.depends.map((d) => d.name)).toEqual([
      'R',
      'methods',
      'utils',
      'graphics',
      'stats',
    ]);
    expect(bioc!.suggests).toHaveLength(15);
    expect(bioc!.path).toBe('bioc/src/contrib');
    expect(matrix).toMatchObject({
      size: 2883409,
      priority: 'recommended',
      file: 'Matrix_1.6-5.tar.gz',
      linkingTo: [],
    });
    expect(rcpp!.suggests.at(-1)).toEqual({
      name: 'pkgKitten',
      constraint: { op: '>=', version: '0.1.2' },
    });
    expect(index.byName.get('abind')!.map((p) => p.version)).toEqual(['1.4-5', '1.4-8']);
  });

  it('builds repository paths for current, archived and Path-relative files', () => {
    const index = parseCranIndex(PACKAGES, 'PACKAGES');
    const [abind, bioc] = index.packages;
    expect(cranFilePath(abind!, false)).toBe('src/contrib/abind_1.4-5.tar.gz');
    expect(cranFilePath(abind!, true)).toBe('src/contrib/Archive/abind/abind_1.4-5.tar.gz');
    expect(cranFilePath(bioc!, false)).toBe(
      'src/contrib/bioc/src/contrib/BiocGenerics_0.48.1.tar.gz',
    );
  });

  it('re-emits a filtered index verbatim and re-parses it to the same packages', () => {
    const index = parseCranIndex(PACKAGES, 'PACKAGES');
    const kept = index.packages.filter((p) => p.name !== 'Rcpp').map((p) => p.stanza);
    const text = renderPackages(kept);
    expect(text.endsWith('\n')).toBe(true);
    for (const stanza of kept) expect(text).toContain(stanza.raw);
    const again = parseCranIndex(text, 'filtered');
    const strip = (i: typeof index) =>
      i.packages.map(({ stanza, ...pkg }) => ({ ...pkg, fields: stanza.fields, raw: stanza.raw }));
    expect(strip(again)).toEqual(strip(index).filter((p) => p.name !== 'Rcpp'));
    expect(renderPackages([])).toBe('');
  });

  it('rejects a stanza without Version, naming the source and the stanza line', () => {
    expect(() =>
      parseCranIndex(
        'Package: a\nVersion: 1.0\n\nPackage: b\nLicense: MIT\n',
        'https://x/PACKAGES',
      ),
    ).toThrow(/https:\/\/x\/PACKAGES: stanza at line 4 \(b\): field Version is missing/);
  });

  it('rejects names, files and paths that would escape the repository', () => {
    const bad = [
      'Package: ../etc\nVersion: 1.0',
      'Package: a\nVersion: 1.0\nFile: ../../a_1.0.tar.gz',
      'Package: a\nVersion: 1.0\nPath: ../outside',
      'Package: a\nVersion: 1.0\nMD5sum: not-a-hash',
      'Package: a\nVersion: 1.0\nSize: -3',
      'Package: a\nVersion: v1',
    ];
    for (const text of bad) {
      expect(() => parseCranIndex(text, 'PACKAGES'), text).toThrow(IntegrityError);
    }
  });

  it('lists base and recommended packages', () => {
    expect(R_BASE_PACKAGES.has('stats')).toBe(true);
    expect(R_BASE_PACKAGES.size).toBe(15);
    expect(R_RECOMMENDED_PACKAGES.has('Matrix')).toBe(true);
    expect(R_RECOMMENDED_PACKAGES.size).toBe(15);
  });
});

describe('agreement with R itself', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'airlock-dcf-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads the same fields as R's read.dcf", async () => {
    const file = join(dir, 'PACKAGES');
    await writeFile(file, PACKAGES.replaceAll('\r\n', '\n'));
    const script =
      'x <- read.dcf(commandArgs(TRUE)[1]); x[] <- gsub("\\\\s*\\n\\\\s*", " ", x);' +
      'cat(paste(apply(x, 1, function(r) paste(names(r)[!is.na(r)], r[!is.na(r)], sep = "=", collapse = "|")), collapse = "\\n"))';
    const { stdout } = await run('Rscript', ['-e', script, file]);
    const ours = parseDcf(PACKAGES).map((s) =>
      [...s.fields].filter(([, v]) => v !== '').map(([k, v]) => `${k}=${v}`),
    );
    const theirs = stdout
      .split('\n')
      .map((line) => line.split('|').filter((kv) => !kv.endsWith('=')));
    expect(theirs.map((fields) => fields.sort())).toEqual(ours.map((fields) => fields.sort()));
  });

  it("orders versions as R's package_version comparison does", async () => {
    const pairs = [
      ['1.10', '1.9'], ['1.0-1', '1.0.1'], ['1.0', '1.0.0'], ['0.9-12', '0.9.2'],
      ['2.0', '1.99.99'], ['3.4.0', '3.4-1'], ['1.0.0.1', '1.0'], ['007.1', '7.1'],
    ]; // prettier-ignore
    const script = `p <- commandArgs(TRUE); for (i in seq(1, length(p), 2)) { a <- package_version(p[i]); b <- package_version(p[i + 1]); cat(if (a < b) -1 else if (a > b) 1 else 0, "\\n") }`;
    const { stdout } = await run('Rscript', ['-e', script, ...pairs.flat()]);
    const theirs = stdout.trim().split(/\s+/).map(Number);
    expect(pairs.map(([a, b]) => Math.sign(compareRVersions(a!, b!)))).toEqual(theirs);
  });
});
