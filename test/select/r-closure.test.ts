import { describe, expect, it } from 'vitest';
import { resolveRClosure, type RIndexPackage } from '../../src/select/index.js';
import { parseDependencyField } from '../../src/upstream/cran-index.js';

/** A small CRAN-like index: name -> versions, each with its dependency fields. */
function index(
  entries: Array<{
    name: string;
    version: string;
    depends?: string;
    imports?: string;
    linkingTo?: string;
    suggests?: string;
  }>,
) {
  const byName = new Map<string, RIndexPackage[]>();
  for (const e of entries) {
    const pkg: RIndexPackage = {
      name: e.name,
      version: e.version,
      depends: parseDependencyField(e.depends ?? ''),
      imports: parseDependencyField(e.imports ?? ''),
      linkingTo: parseDependencyField(e.linkingTo ?? ''),
      suggests: parseDependencyField(e.suggests ?? ''),
    };
    byName.set(e.name, [...(byName.get(e.name) ?? []), pkg]);
  }
  return { byName };
}

const cran = index([
  {
    name: 'airA',
    version: '1.0.0',
    depends: 'R (>= 4.1), methods',
    imports: 'airB (>= 1.1), airC',
    suggests: 'airH',
  },
  { name: 'airB', version: '1.2', imports: 'airD, Matrix', linkingTo: 'airE' },
  { name: 'airC', version: '0.9-1', imports: 'stats, utils' },
  { name: 'airD', version: '3.0' },
  { name: 'airE', version: '1.0' },
  { name: 'airF', version: '1.0', imports: 'airG' },
  { name: 'airG', version: '1.0', imports: 'airF, airZ' },
  { name: 'airH', version: '1.0', suggests: 'airD, airMissing' },
  { name: 'airOld', version: '1.0' },
  { name: 'airOld', version: '2.0' },
  { name: 'Matrix', version: '1.6-1' },
]);
const options = { sourceLabel: 'cran/2026-11-01' };
const names = (closure: ReturnType<typeof resolveRClosure>) => [...closure.selected.keys()].sort();

describe('R closure', () => {
  it('follows Depends, Imports and LinkingTo, skipping base and recommended packages', () => {
    const closure = resolveRClosure(cran, [{ name: 'airA' }], options);
    expect(names(closure)).toEqual(['airA', 'airB', 'airC', 'airD', 'airE']);
    expect(closure.missing).toEqual([]);
    expect(closure.unsatisfied).toEqual([]);
    expect(closure.selected.get('airD')!.reasons).toEqual(['airA -> airB -> airD']);
    expect(closure.selected.get('airE')!.reasons).toEqual(['airA -> airB -> airE']);
  });

  it("adds the roots' Suggests, but not the Suggests of dependencies, when suggests is on", () => {
    const closure = resolveRClosure(cran, [{ name: 'airA' }], { ...options, suggests: true });
    expect(names(closure)).toEqual(['airA', 'airB', 'airC', 'airD', 'airE', 'airH']);
    expect(closure.missing).toEqual([]);
  });

  it('carries a recommended package asked for by name', () => {
    expect(names(resolveRClosure(cran, [{ name: 'Matrix' }], options))).toEqual(['Matrix']);
  });

  it('terminates on a dependency cycle and reports a missing dependency with its chain', () => {
    const closure = resolveRClosure(cran, [{ name: 'airF' }], options);
    expect(names(closure)).toEqual(['airF', 'airG']);
    expect(closure.selected.get('airF')!.reasons).toEqual(['airF', 'airF -> airG -> airF']);
    expect(closure.missing).toEqual([
      {
        name: 'airZ',
        chain: ['airF', 'airG', 'airZ'],
        message: 'airF -> airG -> airZ: airZ not in cran/2026-11-01',
      },
    ]);
  });

  it('reports a missing root by name', () => {
    const closure = resolveRClosure(cran, [{ name: 'airNope' }], options);
    expect(closure.missing.map((m) => m.message)).toEqual([
      'airNope: airNope not in cran/2026-11-01',
    ]);
  });

  it('picks the newest version satisfying every constraint, and reports one none satisfies', () => {
    expect(
      resolveRClosure(cran, [{ name: 'airOld' }], options).selected.get('airOld')!.pkg.version,
    ).toBe('2.0');
    const pinned = resolveRClosure(
      cran,
      [{ name: 'airOld', constraint: { op: '<', version: '2.0' } }],
      options,
    );
    expect(pinned.selected.get('airOld')!.pkg.version).toBe('1.0');
    const strict = resolveRClosure(
      cran,
      [{ name: 'airB', constraint: { op: '>=', version: '2.0' } }],
      options,
    );
    expect(strict.selected.size).toBe(0);
    expect(strict.unsatisfied).toHaveLength(1);
    expect(strict.unsatisfied[0]!.message).toBe(
      'airB: airB (>= 2.0) not satisfiable in cran/2026-11-01, which has 1.2 (archive: true also considers older versions)',
    );
  });

  it('re-chooses when a later constraint rules out the chosen version', () => {
    const closure = resolveRClosure(
      cran,
      [{ name: 'airOld' }, { name: 'airOld', constraint: { op: '==', version: '1.0' } }],
      options,
    );
    expect(closure.selected.get('airOld')!.pkg.version).toBe('1.0');
    expect(closure.unsatisfied).toEqual([]);
  });

  it('selects every satisfying version with archive', () => {
    const closure = resolveRClosure(cran, [{ name: 'airOld' }], { ...options, archive: true });
    expect(closure.selected.get('airOld')!.versions.map((p) => p.version)).toEqual(['2.0', '1.0']);
  });
});
