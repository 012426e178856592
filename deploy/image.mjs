#!/usr/bin/env node
/**
 * `npm run image [-- --release FILE] [--tag NAME]`: builds deploy/Containerfile as
 * localhost/airlock:<version> with podman (docker where podman is absent). Without --release
 * it builds the release first (deploy/release.mjs). The build context is the unpacked release,
 * so the image build runs nothing inside the image and needs no network beyond the base image.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const { values } = parseArgs({
  options: { release: { type: 'string' }, tag: { type: 'string' } },
});
// The version is the release's (from its name) when one is given, else this checkout's.
const given =
  values.release && /^airlock-(.+)-linux-[a-z0-9]+\.tar\.gz$/.exec(basename(values.release));
if (values.release && !given) {
  process.stderr.write(
    `image: --release ${values.release} is not an airlock-<version>-linux-<arch>.tar.gz\n`,
  );
  process.exit(2);
}
const version = given
  ? given[1]
  : JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
const tag = values.tag ?? `localhost/airlock:${version}`;
const engine = ['podman', 'docker'].find(
  (e) => spawnSync('sh', ['-c', `command -v ${e}`], { stdio: 'ignore' }).status === 0,
);
if (!engine) {
  process.stderr.write('image: neither podman nor docker is installed (apt-get install podman)\n');
  process.exit(2);
}

const context = mkdtempSync(join(tmpdir(), 'airlock-image-'));
try {
  let tarball = values.release && resolve(values.release);
  if (!tarball) {
    execFileSync(process.execPath, [join(HERE, 'release.mjs'), '--out', context], {
      stdio: 'inherit',
    });
    tarball = join(context, `airlock-${version}-linux-${process.arch}.tar.gz`);
  }
  const release = basename(tarball).replace(/\.tar\.gz$/, '');
  execFileSync('tar', ['-xzf', tarball, '-C', context]);
  copyFileSync(join(HERE, 'Containerfile'), join(context, 'Containerfile'));
  copyFileSync(join(HERE, 'healthcheck.mjs'), join(context, 'healthcheck.mjs'));
  // Docker's image format: the OCI format has no HEALTHCHECK and podman would drop it.
  const formatArgs = engine === 'podman' ? ['--format', 'docker'] : [];
  execFileSync(
    engine,
    [
      'build',
      ...formatArgs,
      '-f',
      join(context, 'Containerfile'),
      '--build-arg',
      `RELEASE=${release}`,
      '--build-arg',
      `VERSION=${version}`,
      '-t',
      tag,
      context,
    ],
    { stdio: 'inherit' },
  );
  process.stdout.write(`built ${tag} from ${basename(tarball)} with ${engine}\n`);
} finally {
  rmSync(context, { recursive: true, force: true });
}
