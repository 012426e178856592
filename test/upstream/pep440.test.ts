import { describe, expect, it } from 'vitest';
import {
  compareVersions,
  InvalidSpecifierError,
  normalizeVersion,
  parseSpecifierSet,
  parseVersion,
} from '../../src/upstream/pep440.js';

describe('PEP 440 versions', () => {
  it.each([
    ['1.0', '1.0'],
    ['v1.0', '1.0'],
    ['1.0-1', '1.0.post1'],
    ['1.0-r2', '1.0.post2'],
    ['1.0rev3', '1.0.post3'],
    ['1.0_RC_2', '1.0rc2'],
    ['1.0c2', '1.0rc2'],
    ['1.0-preview.1', '1.0rc1'],
    ['1.0.0-alpha.1', '1.0.0a1'],
    ['1.0beta', '1.0b0'],
    ['1.0-dev', '1.0.dev0'],
    ['1.0.post', '1.0.post0'],
    ['2!1.0', '2!1.0'],
    ['0!1.0', '1.0'],
    ['1.0+Ubuntu-1', '1.0+ubuntu.1'],
    [' 1.0 ', '1.0'],
  ])('normalizes %s to %s', (input, normalized) => {
    expect(normalizeVersion(input)).toBe(normalized);
  });

  it.each(['french toast', '1.0+', '1.0.', '1..0', '1.0-foo', ''])(
    'rejects legacy version %j',
    (text) => {
      expect(parseVersion(text)).toBeUndefined();
    },
  );

  it('orders versions as packaging does', () => {
    const ascending = [
      '1.0.dev456',
      '1.0a1',
      '1.0a2.dev456',
      '1.0a12.dev456',
      '1.0a12',
      '1.0b1.dev456',
      '1.0b2',
      '1.0b2.post345.dev456',
      '1.0b2.post345',
      '1.0rc1.dev456',
      '1.0rc1',
      '1.0',
      '1.0+abc.5',
      '1.0+abc.7',
      '1.0+5',
      '1.0.post456.dev34',
      '1.0.post456',
      '1.1.dev1',
      '1!0.1',
    ];
    const shuffled = [...ascending].reverse();
    expect(shuffled.sort(compareVersions)).toEqual(ascending);
  });

  it('treats trailing zeros as equal and local versions as distinct', () => {
    expect(compareVersions('1.0', '1.0.0')).toBe(0);
    expect(compareVersions('1.0+a', '1.0')).toBeGreaterThan(0);
    expect(compareVersions('1.10', '1.9')).toBeGreaterThan(0);
  });
});

describe('PEP 440 specifiers', () => {
  const cases: Array<[string, string, boolean]> = [
    ['==1.0', '1.0.0', true],
    ['==1.0', '1.0+local', true],
    ['==1.0+local', '1.0', false],
    ['==1.0+local', '1.0+local', true],
    ['!=1.0', '1.0+local', false],
    ['==1.0.*', '1.0.5', true],
    ['==1.0.*', '1.0.post1', true],
    ['==1.0.*', '1.1', false],
    ['==1.*', '1.7.1', true],
    ['==1.0.*', '1', true],
    ['!=1.0.*', '1.0.3', false],
    ['!=1.0.*', '1.1', true],
    ['==2!1.*', '2!1.3', true],
    ['==2!1.*', '1.3', false],
    ['>=1.0', '1.0+local', true],
    ['<=1.0', '1.0+local', true],
    ['>1.7', '1.7.post1', false],
    ['>1.7', '1.7+loc', false],
    ['>1.7', '1.7.1', true],
    ['>1.7.post1', '1.7.post2', true],
    ['<1.7', '1.6.9', true],
    ['<1.7', '1.7rc1', false],
    ['~=2.2', '2.3', true],
    ['~=2.2', '3.0', false],
    ['~=2.2', '2.1', false],
    ['~=1.4.5', '1.4.6', true],
    ['~=1.4.5', '1.5', false],
    ['~=2.2.post3', '2.2.post4', true],
    ['~=2.2.post3', '2.2', false],
    ['~=1.4.5a4', '1.4.5', true],
    ['>=1.0,<2', '1.5', true],
    ['>=1.0,<2', '2.0', false],
    ['===1.0', '1.0', true],
    ['===1.0', '1.0.0', false],
    ['===foobar', 'foobar', true],
    ['==1.0', 'foobar', false],
    ['>=0', 'foobar', false],
    ['', '1.0', true],
  ];
  it.each(cases)('%s contains %s: %s', (spec, version, expected) => {
    expect(parseSpecifierSet(spec).contains(version)).toBe(expected);
  });

  it('excludes pre-releases unless a specifier names one or they are asked for', () => {
    expect(parseSpecifierSet('>=1.0').contains('2.0b1')).toBe(false);
    expect(parseSpecifierSet('>=1.0').contains('2.0b1', { prereleases: true })).toBe(true);
    expect(parseSpecifierSet('>=1.0b1').contains('2.0b1')).toBe(true);
    expect(parseSpecifierSet('<1.7rc2').contains('1.7rc1')).toBe(true);
    expect(parseSpecifierSet('!=1.0b1').contains('2.0b1')).toBe(false);
    expect(parseSpecifierSet('==1.0.*').contains('1.0.dev1')).toBe(false);
    expect(parseSpecifierSet('>=1.0').contains('1.0.post1.dev2')).toBe(false);
  });

  it('filter falls back to pre-releases only when no final release satisfies', () => {
    const ids = (x: string) => x;
    expect(parseSpecifierSet('>=1.0').filter(['0.9', '1.5', '2.0b1'], ids)).toEqual(['1.5']);
    expect(parseSpecifierSet('>=1.0').filter(['0.9', '2.0b1'], ids)).toEqual(['2.0b1']);
    expect(parseSpecifierSet('').filter(['1.0a1', '1.0b1'], ids)).toEqual(['1.0a1', '1.0b1']);
    expect(
      parseSpecifierSet('>=1.0').filter(['0.9', '2.0b1'], ids, { prereleases: false }),
    ).toEqual([]);
    expect(parseSpecifierSet('>=2.0b1').filter(['1.5', '2.0b1', '2.0'], ids)).toEqual([
      '2.0b1',
      '2.0',
    ]);
  });

  it.each([
    ['=>1.0', 'invalid version specifier'],
    ['~=1', 'two release segments'],
    ['>=1.0.*', 'only allowed with == and !='],
    ['<1.0+local', 'local version'],
    ['==1.0a1.*', "'.*' must follow a release"],
    ['==not-a-version', 'not a PEP 440 version'],
    ['>=1.0,', 'empty specifier'],
  ])('rejects %s', (spec, message) => {
    expect(() => parseSpecifierSet(spec)).toThrow(InvalidSpecifierError);
    expect(() => parseSpecifierSet(spec)).toThrow(message);
  });

  it('recognizes exact pins', () => {
    expect(parseSpecifierSet('==1.0').isExactPin).toBe(true);
    expect(parseSpecifierSet('===1.0').isExactPin).toBe(true);
    expect(parseSpecifierSet('==1.*').isExactPin).toBe(false);
    expect(parseSpecifierSet('>=1.0').isExactPin).toBe(false);
  });
});
