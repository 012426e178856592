import { describe, expect, it } from 'vitest';
import {
  bestWheelRank,
  linuxPlatforms,
  supportedTags,
  wheelFilenameTags,
  wheelMatches,
} from '../../src/upstream/wheel-tags.js';

const jammy311 = supportedTags({ python: '3.11', arch: 'x86_64', libc: 'glibc', glibc: '2.35' });
const tagsOf = (filename: string) => wheelFilenameTags(filename)!;
const installable = (filename: string, set = jammy311) => wheelMatches(tagsOf(filename), set);

describe('supported wheel tags', () => {
  it('orders tags as packaging.tags does for CPython 3.11 on glibc 2.35', () => {
    const ordered = jammy311.ordered;
    expect(ordered[0]).toBe('cp311-cp311-manylinux_2_35_x86_64');
    const index = (tag: string) => ordered.indexOf(tag);
    expect(index('cp311-cp311-linux_x86_64')).toBeLessThan(
      index('cp311-abi3-manylinux_2_35_x86_64'),
    );
    expect(index('cp311-abi3-linux_x86_64')).toBeLessThan(
      index('cp311-none-manylinux_2_35_x86_64'),
    );
    expect(index('cp311-none-linux_x86_64')).toBeLessThan(
      index('cp310-abi3-manylinux_2_35_x86_64'),
    );
    expect(index('cp32-abi3-linux_x86_64')).toBeLessThan(index('py311-none-manylinux_2_35_x86_64'));
    expect(index('py30-none-linux_x86_64')).toBeLessThan(index('cp311-none-any'));
    expect(ordered.slice(-14, -11)).toEqual(['cp311-none-any', 'py311-none-any', 'py3-none-any']);
    expect(ordered.at(-1)).toBe('py30-none-any');
    expect(ordered).not.toContain('cp31-abi3-linux_x86_64');
  });

  it('lists manylinux from the glibc down to 2.5 with legacy aliases after their PEP 600 tag', () => {
    const platforms = linuxPlatforms({ arch: 'x86_64', libc: 'glibc', glibc: '2.35' });
    expect(platforms.slice(0, 2)).toEqual(['manylinux_2_35_x86_64', 'manylinux_2_34_x86_64']);
    const at = (p: string) => platforms.indexOf(p);
    expect(at('manylinux2014_x86_64')).toBe(at('manylinux_2_17_x86_64') + 1);
    expect(at('manylinux2010_x86_64')).toBe(at('manylinux_2_12_x86_64') + 1);
    expect(platforms.slice(-3)).toEqual([
      'manylinux_2_5_x86_64',
      'manylinux1_x86_64',
      'linux_x86_64',
    ]);
    expect(platforms.some((p) => p.startsWith('musllinux'))).toBe(false);
  });

  it('starts aarch64 at manylinux 2.17 (manylinux2014), as packaging does', () => {
    const platforms = linuxPlatforms({ arch: 'aarch64', libc: 'glibc', glibc: '2.39' });
    expect(platforms.slice(-3)).toEqual([
      'manylinux_2_17_aarch64',
      'manylinux2014_aarch64',
      'linux_aarch64',
    ]);
  });

  it('uses musllinux for Alpine', () => {
    const platforms = linuxPlatforms({ arch: 'x86_64', libc: 'musl' });
    expect(platforms).toEqual([
      'musllinux_1_2_x86_64',
      'musllinux_1_1_x86_64',
      'musllinux_1_0_x86_64',
      'linux_x86_64',
    ]);
  });
});

describe('wheel matching', () => {
  it('accepts the cp311 manylinux wheel on jammy/3.11 and refuses musllinux, Windows, macOS and cp310', () => {
    expect(
      installable('fastcalc-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl'),
    ).toBe(true);
    expect(installable('fastcalc-1.0-cp311-cp311-musllinux_1_1_x86_64.whl')).toBe(false);
    expect(installable('fastcalc-1.0-cp311-cp311-win_amd64.whl')).toBe(false);
    expect(installable('fastcalc-1.0-cp311-cp311-macosx_11_0_arm64.whl')).toBe(false);
    expect(installable('fastcalc-1.0-cp310-cp310-manylinux_2_17_x86_64.whl')).toBe(false);
    expect(installable('fastcalc-1.0-cp311-cp311-manylinux_2_36_x86_64.whl')).toBe(false);
    expect(installable('fastcalc-1.0-cp311-cp311-manylinux_2_17_aarch64.whl')).toBe(false);
  });

  it('accepts abi3 wheels built for an older CPython and pure wheels', () => {
    expect(installable('abiwheel-2.0-cp37-abi3-manylinux_2_28_x86_64.whl')).toBe(true);
    expect(installable('purelib-1.0-py3-none-any.whl')).toBe(true);
    expect(installable('oldpure-1.0-py2.py3-none-any.whl')).toBe(true);
    expect(installable('oldpure-1.0-py2-none-any.whl')).toBe(false);
    expect(installable('build-1.0-1-py3-none-any.whl')).toBe(true);
  });

  it('ranks the most specific wheel first', () => {
    const rank = (f: string) => bestWheelRank(tagsOf(f), jammy311)!;
    const specific = rank('x-1.0-cp311-cp311-manylinux_2_17_x86_64.whl');
    const abi3 = rank('x-1.0-cp38-abi3-manylinux_2_17_x86_64.whl');
    const pure = rank('x-1.0-py3-none-any.whl');
    expect(specific).toBeLessThan(abi3);
    expect(abi3).toBeLessThan(pure);
    expect(rank('x-1.0-cp311-cp311-manylinux_2_28_x86_64.whl')).toBeLessThan(specific);
  });

  it('expands compressed tag sets and rejects names that are not wheels', () => {
    expect(tagsOf('a-1.0-py2.py3-none-any.whl')).toEqual([
      { python: 'py2', abi: 'none', platform: 'any' },
      { python: 'py3', abi: 'none', platform: 'any' },
    ]);
    expect(wheelFilenameTags('a-1.0.tar.gz')).toBeUndefined();
    expect(wheelFilenameTags('a-1.0-any.whl')).toBeUndefined();
  });
});
