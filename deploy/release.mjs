#!/usr/bin/env node
/**
 * `npm run release [-- --out DIR] [--sign-key FILE]` (DIR defaults to release/):
 * airlock-<version>-linux-<arch>.tar.gz, a release that runs on a host with no Node.js, no
 * npm, no compiler and no network. It carries this machine's Node.js binary, the compiled
 * dist/, the production dependencies (with better-sqlite3's native addon already built, and
 * none of its build intermediates), a launcher and the licence texts of everything inside.
 * Beside it: NAME.sha256 (sha256sum format) and, with --sign-key, NAME.sig (a base64 Ed25519
 * signature over the tarball, the format of a bundle's manifest signature, made with the
 * project's own signing code).
 *
 * A dev tool, not part of the runtime: it lives in deploy/ and imports the compiled dist/
 * (`npm run release` builds it first).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tar from 'tar';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { loadPrivateKey, signManifest } = await import(join(ROOT, 'dist/bundle/signing.js'));
const { formatSize } = await import(join(ROOT, 'dist/size.js'));

const LICENSE_FILE = /^(licen[cs]e|copying|notice)(\.(md|txt|markdown|mit|apache2?))?$/i;
/** Files no production run reads: type declarations and source maps (their sources stay home). */
const DEV_ONLY_FILE = /(\.d\.[cm]?ts|\.map)$/;

async function main() {
  const { values } = parseArgs({
    options: { out: { type: 'string' }, 'sign-key': { type: 'string' } },
  });
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) usage('dist/ is missing: run `npm run build`');
  const name = `airlock-${pkg.version}-linux-${process.arch}`;
  // Default: release/ in the checkout (ignored by git).
  const outDir = resolve(values.out ?? join(ROOT, 'release'));
  mkdirSync(outDir, { recursive: true });
  const key = values['sign-key'] ? await loadKey(values['sign-key']) : undefined;

  const staging = mkdtempSync(join(tmpdir(), 'airlock-release-'));
  try {
    const top = join(staging, name);
    const packages = stageRelease(top, pkg);
    writeThirdPartyLicenses(top, packages);
    writeReadme(top, pkg, name);
    normaliseModes(top);
    const tarball = join(outDir, `${name}.tar.gz`);
    writeTarball(staging, name, tarball);
    const bytes = readFileSync(tarball);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    writeAtomically(`${tarball}.sha256`, `${sha256}  ${basename(tarball)}\n`);
    if (key) writeAtomically(`${tarball}.sig`, signManifest(bytes, key));
    else rmSync(`${tarball}.sig`, { force: true });
    process.stdout.write(
      `wrote ${tarball} (${formatSize(bytes.length)}, ${bytes.length} bytes)\n` +
        `  sha256 ${sha256}\n` +
        `  ${basename(tarball)}.sha256${key ? `, ${basename(tarball)}.sig` : ''}\n`,
    );
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Lays out the release under `top`; returns the packages it carries (for their licences). */
function stageRelease(top, pkg) {
  mkdirSync(join(top, 'bin'), { recursive: true });
  mkdirSync(join(top, 'node/bin'), { recursive: true });
  copyFileSync(realpathSync(process.execPath), join(top, 'node/bin/node'));
  copyFileSync(nodeLicense(), join(top, 'node/LICENSE'));
  copyFileSync(join(ROOT, 'LICENSE'), join(top, 'LICENSE'));
  copyFileSync(join(ROOT, 'bin/airlock.js'), join(top, 'bin/airlock.js'));
  writeFileSync(join(top, 'bin/airlock'), LAUNCHER);
  cpSync(join(ROOT, 'dist'), join(top, 'dist'), {
    recursive: true,
    filter: (src) => !DEV_ONLY_FILE.test(src),
  });
  // Only what the runtime reads: the version comes from package.json beside dist/.
  const runtimePkg = {
    name: pkg.name,
    version: pkg.version,
    description: pkg.description,
    type: pkg.type,
    license: pkg.license,
    bin: pkg.bin,
    dependencies: pkg.dependencies,
  };
  writeFileSync(join(top, 'package.json'), `${JSON.stringify(runtimePkg, null, 2)}\n`);
  return stageProductionDependencies(top);
}

/**
 * Copies the production dependency tree from node_modules (npm's own list, so a dev-only
 * package never slips in), each package without nested node_modules (npm lists those too).
 */
function stageProductionDependencies(top) {
  const listed = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  })
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && resolve(l) !== ROOT);
  const packages = [];
  for (const dir of [...new Set(listed)].sort()) {
    const rel = relative(ROOT, dir);
    if (!rel.startsWith('node_modules/')) throw new Error(`unexpected dependency path ${dir}`);
    const target = join(top, rel);
    cpSync(dir, target, {
      recursive: true,
      filter: (src) =>
        (src === dir || !relative(dir, src).split('/').includes('node_modules')) &&
        !DEV_ONLY_FILE.test(src),
    });
    const meta = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    if (meta.name === 'better-sqlite3') keepOnlyBuiltAddon(target);
    packages.push({ name: meta.name, version: meta.version, license: meta.license, dir: target });
  }
  return packages;
}

/**
 * better-sqlite3 ships its C sources and node-gyp's whole build tree; at run time `bindings`
 * loads build/Release/better_sqlite3.node and nothing else from those folders.
 */
function keepOnlyBuiltAddon(dir) {
  const addon = join(dir, 'build/Release/better_sqlite3.node');
  if (!existsSync(addon)) {
    throw new Error(`${addon} is missing: run \`npm ci\` (it builds the addon) before the release`);
  }
  const keep = readFileSync(addon);
  for (const d of ['build', 'deps', 'src']) rmSync(join(dir, d), { recursive: true, force: true });
  rmSync(join(dir, 'binding.gyp'), { force: true });
  mkdirSync(join(dir, 'build/Release'), { recursive: true });
  writeFileSync(join(dir, 'build/Release/better_sqlite3.node'), keep);
}

function writeThirdPartyLicenses(top, packages) {
  const sections = [
    section(`Node.js ${process.version} (node/bin/node)`, readFileSync(nodeLicense(), 'utf8')),
  ];
  const withText = packages.map((p) => ({
    ...p,
    texts: readdirSync(p.dir)
      .filter((f) => LICENSE_FILE.test(f))
      .sort()
      .map((f) => readFileSync(join(p.dir, f), 'utf8')),
  }));
  for (const p of withText) {
    let text = p.texts.join('\n');
    if (text === '') {
      // A few packages publish no licence file; the text of the same SPDX licence from a
      // package that does carry it stands in, and says so.
      const donor = withText.find((o) => o.license === p.license && o.texts.length > 0);
      if (!donor) {
        throw new Error(
          `${p.name}@${p.version} carries no licence file and no other package has ${p.license}'s text`,
        );
      }
      text = `(${p.name} publishes no licence file; its package.json says ${p.license}, whose text follows, as carried by ${donor.name})\n\n${donor.texts.join('\n')}`;
    }
    sections.push(section(`${p.name} ${p.version} (${p.license ?? 'see text'})`, text));
  }
  const head =
    'Licence texts of the software carried in this release, besides airlock itself\n' +
    '(airlock: MIT, see LICENSE). Each package keeps its own files under node_modules/ too.\n';
  writeFileSync(join(top, 'THIRD-PARTY-LICENSES.txt'), [head, ...sections].join('\n'));
}

function section(title, text) {
  return `${'='.repeat(78)}\n${title}\n${'='.repeat(78)}\n\n${text.trimEnd()}\n`;
}

function writeReadme(top, pkg, name) {
  writeFileSync(join(top, 'VERSION'), `${pkg.version}\n`);
  writeFileSync(
    join(top, 'README.txt'),
    `${name}: airlock ${pkg.version} with its own Node.js ${process.version} runtime.\n\n` +
      'Install: unpack anywhere and put bin/ on PATH (or link bin/airlock into it):\n' +
      `  tar -xzf ${name}.tar.gz -C /opt\n` +
      `  ln -s /opt/${name}/bin/airlock /usr/local/bin/airlock\n` +
      '  airlock --version\n\n' +
      'Nothing else is needed: no network, no npm, no compiler, no Node.js on the host\n' +
      '(glibc 2.28 or newer and libstdc++, as in every Debian 10+ or RHEL 8+ base system).\n' +
      'THIRD-PARTY-LICENSES.txt holds the licence texts of everything included.\n',
  );
}

/** Files 0644 and directories 0755, executables 0755: the tarball's modes do not depend on umask. */
function normaliseModes(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      chmodSync(path, 0o755);
      normaliseModes(path);
    } else {
      const executable = (statSync(path).mode & 0o111) !== 0 || path.endsWith('/bin/airlock');
      chmodSync(path, executable ? 0o755 : 0o644);
    }
  }
}

/**
 * Sorted entries, one fixed mtime (SOURCE_DATE_EPOCH, else the commit's time), no owner names
 * (node-tar's portable mode writes uid/gid 0): the same tree makes the same tarball.
 */
function writeTarball(cwd, name, tarball) {
  const entries = [];
  const walk = (rel) => {
    entries.push(rel);
    if (!statSync(join(cwd, rel)).isDirectory()) return;
    for (const child of readdirSync(join(cwd, rel)).sort()) walk(`${rel}/${child}`);
  };
  walk(name);
  const temp = `${tarball}.tmp-${process.pid}`;
  try {
    tar.create(
      {
        file: temp,
        cwd,
        gzip: { level: 9 },
        portable: true,
        noDirRecurse: true,
        mtime: new Date(releaseEpoch() * 1000),
        sync: true,
      },
      entries,
    );
    renameSync(temp, tarball);
  } finally {
    rmSync(temp, { force: true });
  }
}

function releaseEpoch() {
  if (process.env.SOURCE_DATE_EPOCH) return Number(process.env.SOURCE_DATE_EPOCH);
  try {
    return Number(
      execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: ROOT, encoding: 'utf8' }).trim(),
    );
  } catch {
    return 0;
  }
}

/** Node.js's licence: beside an official build, or where Debian's and NodeSource's package put it. */
function nodeLicense() {
  const prefix = dirname(dirname(realpathSync(process.execPath)));
  const candidates = [
    join(prefix, 'LICENSE'),
    join(prefix, 'share/doc/node/LICENSE'),
    '/usr/share/doc/nodejs/LICENSE',
    '/usr/share/doc/nodejs/copyright',
  ];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`Node.js's LICENSE not found (looked in ${candidates.join(', ')})`);
  return found;
}

function loadKey(path) {
  // The project's own loader: the same checks and messages as `airlock bundle --sign-key`.
  return loadPrivateKey(path, '--sign-key').catch((err) => usage(err.message));
}

function writeAtomically(path, data) {
  const temp = `${path}.tmp-${process.pid}`;
  writeFileSync(temp, data);
  renameSync(temp, path);
}

function usage(message) {
  process.stderr.write(
    `release: ${message}\nusage: npm run release [-- --out DIR] [--sign-key FILE]\n`,
  );
  process.exit(2);
}

const LAUNCHER = `#!/bin/sh
# airlock launcher: runs airlock with the Node.js runtime carried in this release, from
# wherever the release was unpacked (also through a symbolic link on PATH).
self=$0
while [ -L "$self" ]; do
  target=$(readlink "$self")
  case $target in
    /*) self=$target ;;
    *) self=$(dirname "$self")/$target ;;
  esac
done
here=$(CDPATH= cd -- "$(dirname -- "$self")/.." && pwd -P) || exit 1
exec "$here/node/bin/node" "$here/bin/airlock.js" "$@"
`;

await main();
