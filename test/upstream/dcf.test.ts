import { describe, expect, it } from 'vitest';
import { IntegrityError } from '../../src/errors.js';
import { parseDcf } from '../../src/upstream/dcf.js';

// Shaped like CRAN's src/contrib/PACKAGES: long Imports wrapped by R's formatDL at 72 columns.
const CRAN_PACKAGES = `Package: A3
Version: 1.0.0
Depends: R (>= 2.15.0), xtable, pbapply
Suggests: randomForest, e1071
License: GPL (>= 2)
MD5sum: 027ebdd8affce8f0effaecfcd5f5ade2
NeedsCompilation: no

Package: ggplot2
Version: 3.5.1
Depends: R (>= 3.5)
Imports: cli, glue, grDevices, grid, gtable (>= 0.1.1), isoband,
        lifecycle (> 1.0.1), MASS, mgcv, rlang (>= 1.1.0), scales (>=
        1.3.0), stats, tibble, vctrs (>= 0.5.0), withr (>= 2.5.0)
Suggests: covr, dplyr, ggplot2movies, hexbin, Hmisc, knitr, mapproj,
        maps, multcomp, munsell, nlme, profvis, quantreg, ragg (>=
        1.2.6), RColorBrewer, rmarkdown, rpart, sf (>= 0.7-3), svglite
        (>= 2.1.2), testthat (>= 3.1.2), vdiffr (>= 1.0.6), xml2
License: MIT + file LICENSE
MD5sum: 6e2b1ec2a7bd4aefbd4d5d0d3e7e9c1a
NeedsCompilation: no
`;

describe('parseDcf', () => {
  it('splits stanzas and joins wrapped continuation lines with one space', () => {
    const stanzas = parseDcf(CRAN_PACKAGES, 'PACKAGES');
    expect(stanzas).toHaveLength(2);
    const ggplot2 = stanzas[1]!;
    expect(ggplot2.fields.get('Package')).toBe('ggplot2');
    expect(ggplot2.fields.get('Imports')).toBe(
      'cli, glue, grDevices, grid, gtable (>= 0.1.1), isoband, lifecycle (> 1.0.1), MASS, ' +
        'mgcv, rlang (>= 1.1.0), scales (>= 1.3.0), stats, tibble, vctrs (>= 0.5.0), withr (>= 2.5.0)',
    );
    expect(ggplot2.line).toBe(9);
  });

  it('keeps each stanza raw text byte-exact, without the separator', () => {
    const stanzas = parseDcf(CRAN_PACKAGES);
    const [first, second] = CRAN_PACKAGES.split('\n\n');
    expect(stanzas[0]!.raw).toBe(first);
    expect(stanzas[1]!.raw).toBe(second!.replace(/\n$/, ''));
  });

  it('copes with CRLF, a BOM, tabs, trailing spaces and no final newline', () => {
    const text =
      '\uFEFFPackage: foo  \r\nVersion:\t1.0-2\r\nImports: bar,\r\n\tbaz (>= 2.0)  \r\n\r\n' +
      'Package: qux\r\nVersion: 0.1';
    const stanzas = parseDcf(text);
    expect(stanzas.map((s) => Object.fromEntries(s.fields))).toEqual([
      { Package: 'foo', Version: '1.0-2', Imports: 'bar, baz (>= 2.0)' },
      { Package: 'qux', Version: '0.1' },
    ]);
    // The raw text keeps inner CRLFs and trailing spaces but not the BOM or the last CRLF.
    expect(stanzas[0]!.raw).toBe(
      'Package: foo  \r\nVersion:\t1.0-2\r\nImports: bar,\r\n\tbaz (>= 2.0)  ',
    );
    expect(stanzas[1]!.raw).toBe('Package: qux\r\nVersion: 0.1');
  });

  it('treats whitespace-only lines as separators and ignores runs of them', () => {
    const text = '\n\n  \nPackage: a\n \t \n\n\nPackage: b\n   \n';
    const stanzas = parseDcf(text);
    expect(stanzas.map((s) => s.fields.get('Package'))).toEqual(['a', 'b']);
    expect(stanzas.map((s) => s.line)).toEqual([4, 8]);
  });

  it('keeps the last value of a repeated field', () => {
    const [stanza] = parseDcf('Package: a\nVersion: 1.0\nVersion: 2.0\n');
    expect(stanza!.fields.get('Version')).toBe('2.0');
  });

  it('reads a field whose value starts on the continuation line', () => {
    const [stanza] = parseDcf('Package: a\nDepends:\n    R (>= 4.1),\n    methods\n');
    expect(stanza!.fields.get('Depends')).toBe('R (>= 4.1), methods');
  });

  it('accepts a field with no space after the colon and colons inside values', () => {
    const [stanza] = parseDcf('Package:a\nURL: https://example.org:8443/x\n');
    expect(stanza!.fields.get('Package')).toBe('a');
    expect(stanza!.fields.get('URL')).toBe('https://example.org:8443/x');
  });

  it('returns no stanzas for empty and blank input', () => {
    expect(parseDcf('')).toEqual([]);
    expect(parseDcf('\uFEFF\r\n \n')).toEqual([]);
  });

  it('rejects a line without a field, naming the source, the line number and the text', () => {
    const text = 'Package: a\nVersion: 1.0\n\nPackage: b\n<html>this is an error page</html>\n';
    let caught: unknown;
    try {
      parseDcf(text, 'https://cran.example/src/contrib/PACKAGES');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(IntegrityError);
    const error = caught as IntegrityError;
    expect(error.code).toBe('EINDEX');
    expect(error.message).toContain('https://cran.example/src/contrib/PACKAGES: line 5');
    expect(error.message).toContain('"<html>this is an error page</html>"');
    expect(error.hint).toMatch(/PACKAGES/);
  });

  it('rejects an indented line at the start of a stanza', () => {
    expect(() => parseDcf('Package: a\n\n   orphan continuation\n', 'PACKAGES')).toThrow(
      /PACKAGES: line 3 is malformed \(an indented line with no field before it\)/,
    );
  });

  it('rejects a field name containing spaces and quotes only the first 60 characters', () => {
    const long = `Not a field ${'x'.repeat(100)}: value`;
    expect(() => parseDcf(`Package: a\n${long}\n`)).toThrow(
      new RegExp(`line 2 is malformed .*"Not a field x{48}"$`),
    );
  });

  it('parses a Package Manager sized index of many stanzas', () => {
    const stanza = (i: number) => `Package: pkg${i}\nVersion: 1.${i}\nImports: a,\n    b\n`;
    const text = Array.from({ length: 20000 }, (_, i) => stanza(i)).join('\n');
    const stanzas = parseDcf(text);
    expect(stanzas).toHaveLength(20000);
    expect(stanzas[19999]!.fields.get('Version')).toBe('1.19999');
    expect(stanzas[19999]!.raw).toBe(stanza(19999).trimEnd());
  });
});
