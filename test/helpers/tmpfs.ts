/**
 * Real small file systems for storage-failure tests: a tiny tmpfs fills up (ENOSPC), a
 * read-only one refuses writes (EROFS). The tests run as root, which ignores permission bits,
 * so these stand in for "the disk said no". Mounting needs root and a `mount` binary; tests
 * skip where it is not allowed.
 */
import { execFileSync } from 'node:child_process';

export const canMount = (() => {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('mount', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Mounts a tmpfs with `options` on `target`; false where the kernel refuses. */
export function mountTmpfs(target: string, options: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', target], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function unmount(target: string): void {
  execFileSync('umount', [target], { stdio: 'ignore' });
}
