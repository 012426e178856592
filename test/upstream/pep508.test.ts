import { describe, expect, it } from 'vitest';
import {
  evaluateMarker,
  formatRequirement,
  InvalidRequirementError,
  markerEnvironmentFor,
  parseMarker,
  parseRequirement,
} from '../../src/upstream/pep508.js';

const py310 = markerEnvironmentFor({
  python: '3.10',
  arch: 'x86_64',
  libc: 'glibc',
  glibc: '2.35',
});
const py312 = markerEnvironmentFor({
  python: '3.12.4',
  arch: 'aarch64',
  libc: 'glibc',
  glibc: '2.39',
});

describe('PEP 508 requirements', () => {
  it('parses name, extras, a parenthesized specifier and a marker', () => {
    const r = parseRequirement('Alpha_Pkg[Fast, extra.two] (>=1.0,<2) ; python_version < "3.12"');
    expect(r.name).toBe('Alpha_Pkg');
    expect(r.normalizedName).toBe('alpha-pkg');
    expect(r.extras).toEqual(['fast', 'extra-two']);
    expect(r.specifier.toString()).toBe('>=1.0,<2');
    expect(r.markerText).toBe('python_version < "3.12"');
    expect(formatRequirement(r)).toBe('Alpha_Pkg[fast,extra-two]>=1.0,<2; python_version < "3.12"');
  });

  it('parses a bare name and an unparenthesized specifier', () => {
    expect(parseRequirement('requests').specifier.isEmpty).toBe(true);
    expect(parseRequirement('requests>=2.31,<3').specifier.contains('2.32.0')).toBe(true);
  });

  it('parses a direct URL requirement whose URL contains a semicolon', () => {
    const r = parseRequirement('pip @ https://example.org/pip.whl;x=1 ; os_name == "posix"');
    expect(r.url).toBe('https://example.org/pip.whl;x=1');
    expect(r.markerText).toBe('os_name == "posix"');
  });

  it.each([
    ['>=1.0', 'project name'],
    ['foo[bar', "missing ']'"],
    ['foo (>=1.0', "missing ')'"],
    ['foo >=1.0 ;', 'empty marker'],
    ['foo ; python_version <', 'expected a variable'],
    ['foo ; pyversion == "3"', "unknown variable 'pyversion'"],
    ['foo =>1', 'invalid version specifier'],
  ])('rejects %j', (text, message) => {
    expect(() => parseRequirement(text)).toThrow(InvalidRequirementError);
    expect(() => parseRequirement(text)).toThrow(message);
  });
});

describe('PEP 508 markers', () => {
  const holds = (text: string, env = py310, extras?: Set<string>) =>
    evaluateMarker(parseMarker(text), env, extras);

  it('compares python_version as a version, not as a string', () => {
    expect(holds('python_version < "3.12"', py310)).toBe(true);
    expect(holds('python_version < "3.12"', py312)).toBe(false);
    expect(holds('python_version >= "3.9"', py310)).toBe(true);
    expect(holds('python_full_version >= "3.12.4"', py312)).toBe(true);
    expect(holds('"3.11" > python_version', py310)).toBe(true);
  });

  it('evaluates and/or with precedence and parentheses', () => {
    expect(holds('os_name == "nt" or python_version == "3.10" and sys_platform == "linux"')).toBe(
      true,
    );
    expect(holds('(os_name == "nt" or python_version == "3.10") and sys_platform == "win32"')).toBe(
      false,
    );
  });

  it('compares strings, and tests substrings with in / not in', () => {
    expect(holds('platform_machine == "x86_64"')).toBe(true);
    expect(holds('platform_machine == "aarch64"', py312)).toBe(true);
    expect(holds('"linux" in sys_platform')).toBe(true);
    expect(holds('platform_system not in "Windows Darwin"')).toBe(true);
    expect(
      holds('implementation_name == "cpython" and platform_python_implementation == "CPython"'),
    ).toBe(true);
    expect(holds("os.name == 'posix'")).toBe(true);
  });

  it('matches extra by normalized name, against each requested extra', () => {
    expect(holds('extra == "fast"')).toBe(false);
    expect(holds('extra == "Fast_Calc"', py310, new Set(['other', 'fast-calc']))).toBe(true);
    expect(holds('extra == "fast" and python_version >= "3.12"', py310, new Set(['fast']))).toBe(
      false,
    );
  });
});
