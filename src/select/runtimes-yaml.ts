/**
 * Posit Connect's runtimes.yaml (Launcher.ClusterDefinitions): `images`, each with its
 * Python, R and Quarto installations and a `matching` strategy, turned into target
 * environments.
 *
 * One environment per Python x R installation pair of an image: content on that image may
 * run under any pairing Connect selects, so every pairing must be installable. An image with
 * only Python (or only R) installations yields one environment per installation. Images with
 * `matching: none` are disabled in Connect and skipped, as are images with neither Python
 * nor R (Quarto alone installs no packages). Read with the failsafe schema so every scalar
 * stays a string: YAML would read an unquoted version 3.10 as the number 3.1.
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, isAlias, isMap, isSeq, type Node } from 'yaml';
import { ConfigError, storageErrorFrom } from '../errors.js';
import { distributionFromImage } from './distributions.js';
import { archKey, buildEnvironment, type TargetEnvironment } from './environments.js';

export interface RuntimesOptions {
  /** Distribution for images whose name does not say (config: environments-distribution). */
  distribution?: string;
  /** Machine of every image (default x86_64). */
  arch?: string;
}

export interface RuntimesResult {
  environments: TargetEnvironment[];
  /** Images that yield no environment, with why (matching: none, no Python or R). */
  skipped: Array<{ image: string; reason: string }>;
}

/** Reads a runtimes.yaml file; see parseRuntimesYaml. */
export async function environmentsFromRuntimesYaml(
  path: string,
  options: RuntimesOptions = {},
): Promise<TargetEnvironment[]> {
  return (await readRuntimesYaml(path, options)).environments;
}

export async function readRuntimesYaml(
  path: string,
  options: RuntimesOptions = {},
): Promise<RuntimesResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ConfigError(`environments-from: ${path} does not exist`, {
        hint: 'give the path of the runtimes.yaml (relative to the config file)',
      });
    }
    throw storageErrorFrom(err, 'read', path);
  }
  return parseRuntimesYaml(text, path, options);
}

export function parseRuntimesYaml(
  text: string,
  path: string,
  options: RuntimesOptions = {},
): RuntimesResult {
  const lines = new LineCounter();
  // Anchors, aliases and merge keys resolve as YAML defines them (a hand-edited file may share
  // an installation list between images); without `merge` a `<<` key was read as a plain key
  // and the image it should have completed was silently skipped.
  const doc = parseDocument(text, { lineCounter: lines, schema: 'failsafe', merge: true });
  const lineOf = (node: unknown) => {
    const range = (node as Node | undefined)?.range;
    return range ? lines.linePos(range[0]).line : 1;
  };
  const fail = (node: unknown, what: string, hint: string): never => {
    throw new ConfigError(`${path}:${lineOf(node)}: ${what}`, { hint });
  };
  const [yamlError] = doc.errors;
  if (yamlError) {
    const line = yamlError.linePos?.[0].line ?? 1;
    throw new ConfigError(`${path}:${line}: not valid YAML: ${yamlError.message.split('\n')[0]}`, {
      hint: 'fix the YAML syntax (indentation, quotes) at that line',
    });
  }
  const images = doc.get('images', true);
  if (!isSeq(images)) {
    return fail(
      images ?? doc.contents,
      "expected an 'images' list",
      'runtimes.yaml has name: Kubernetes and images: [...]',
    );
  }
  const arch = archKey(options.arch, `${path}: arch`);
  const result: RuntimesResult = { environments: [], skipped: [] };
  for (const item of images.items) {
    const node = isAlias(item) ? item.resolve(doc) : item;
    if (!isMap(node))
      return fail(item, 'each image must be a mapping', 'an image has name, matching, python, r');
    // toJS with the document: aliases inside the image resolve, merge keys merge.
    const image = node.toJS(doc) as RawImage;
    if (typeof image.name !== 'string' || image.name === '') {
      return fail(node, 'an image has no name', 'every image needs name: <container image>');
    }
    const matching = image.matching ?? 'any';
    if (!['any', 'exact', 'none'].includes(matching)) {
      fail(
        node,
        `image ${image.name}: matching must be any, exact or none`,
        'remove matching: to default to any',
      );
    }
    if (matching === 'none') {
      result.skipped.push({ image: image.name, reason: 'matching: none (disabled in Connect)' });
      continue;
    }
    const pythons = installationVersions(image.python, (what) =>
      fail(node, `image ${image.name}: python ${what}`, INSTALL_HINT),
    );
    const rs = installationVersions(image.r, (what) =>
      fail(node, `image ${image.name}: r ${what}`, INSTALL_HINT),
    );
    if (pythons.length === 0 && rs.length === 0) {
      result.skipped.push({ image: image.name, reason: 'no Python or R installation' });
      continue;
    }
    const distribution = distributionFromImage(image.name) ?? options.distribution;
    if (distribution === undefined) {
      fail(
        node,
        `image ${image.name}: cannot tell its Linux distribution from the name`,
        'set environments-distribution: (e.g. jammy) in the config',
      );
    }
    const pairs = pairings(pythons, rs);
    for (const [python, r] of pairs) {
      const label = [python && `python ${python}`, r && `R ${r}`].filter(Boolean).join(', ');
      const name = pairs.length === 1 ? image.name : `${image.name} (${label})`;
      const fields = { name, python, r, distribution: distribution!, arch, image: image.name };
      result.environments.push(
        buildEnvironment(fields, `${path}:${lineOf(node)}: image ${image.name}`),
      );
    }
  }
  return result;
}

const INSTALL_HINT = 'each installation is {path: /opt/..., version: "X.Y.Z"}';

interface RawImage {
  name?: unknown;
  matching?: string;
  python?: unknown;
  r?: unknown;
}

function installationVersions(section: unknown, fail: (what: string) => never): string[] {
  if (section === undefined || section === null) return [];
  const installations = (section as { installations?: unknown }).installations;
  if (installations === undefined || installations === null) return [];
  if (!Array.isArray(installations)) return fail('installations must be a list');
  return installations.map((inst: { version?: unknown }) => {
    const version = inst?.version === undefined ? undefined : String(inst.version).trim();
    if (version === undefined || !/^\d+\.\d+(\.\d+)?$/.test(version)) {
      return fail(`installation has no valid version (${JSON.stringify(inst?.version)})`);
    }
    return version;
  });
}

function pairings(
  pythons: string[],
  rs: string[],
): Array<[string | undefined, string | undefined]> {
  if (pythons.length === 0) return rs.map((r) => [undefined, r]);
  if (rs.length === 0) return pythons.map((p) => [p, undefined]);
  return pythons.flatMap((p) => rs.map((r): [string, string] => [p, r]));
}
