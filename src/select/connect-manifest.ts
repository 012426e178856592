/**
 * A Posit Connect content bundle's manifest.json: the R packages it records (`packages`,
 * each with its DESCRIPTION's Package and Version), the Python requirements file it names
 * (`python.package_manager.package_file`, beside the manifest), and the image it asks for.
 */
import { dirname, resolve } from 'node:path';
import { isObject, parseJsonInput, type RRequirement } from './r-inputs.js';
import {
  malformed,
  readInput,
  readRequirementsFile,
  type RequirementsFile,
} from './requirements-txt.js';

export interface ConnectManifest {
  /** Exact (==) pins of the R packages the content uses. */
  rPackages: RRequirement[];
  /** `platform`: the R version the content was deployed with. */
  rVersion?: string;
  pythonVersion?: string;
  /** The Python requirements file, parsed, when the manifest names one. */
  python?: RequirementsFile;
  /** `environment.image`, when the content selects an image. */
  image?: string;
}

const MANIFEST_HINT =
  'manifest.json is written by rsconnect (writeManifest / write-manifest); regenerate it or fix that line';

export async function readConnectManifest(path: string): Promise<ConnectManifest> {
  const json = parseJsonInput(await readInput(path), path, MANIFEST_HINT);
  const root = json.value;
  if (!isObject(root)) throw malformed(`${path}:1`, 'expected a JSON object', MANIFEST_HINT);
  const manifest: ConnectManifest = { rPackages: [] };
  if (typeof root.platform === 'string') manifest.rVersion = root.platform;
  if (isObject(root.environment) && typeof root.environment.image === 'string') {
    manifest.image = root.environment.image;
  }

  if (root.packages !== undefined) {
    if (!isObject(root.packages)) {
      throw malformed(
        `${path}:${json.lineOfKey(root, 'packages') ?? 1}`,
        "'packages' must be an object",
        MANIFEST_HINT,
      );
    }
    for (const [key, entry] of Object.entries(root.packages)) {
      const line = json.lineOfKey(root.packages, key) ?? 1;
      const description = isObject(entry) ? entry.description : undefined;
      const version = isObject(description) ? description.Version : undefined;
      const name =
        isObject(description) && typeof description.Package === 'string'
          ? description.Package
          : key;
      if (typeof version !== 'string' || !/^\d+([.-]\d+)+$/.test(version)) {
        throw malformed(
          `${path}:${line}`,
          `packages.${key}.description.Version is missing or invalid`,
          MANIFEST_HINT,
        );
      }
      manifest.rPackages.push({ name, constraint: { op: '==', version }, origin: path });
    }
  }

  const python = root.python;
  if (python !== undefined) {
    if (!isObject(python)) {
      throw malformed(
        `${path}:${json.lineOfKey(root, 'python') ?? 1}`,
        "'python' must be an object",
        MANIFEST_HINT,
      );
    }
    if (typeof python.version === 'string') manifest.pythonVersion = python.version;
    const manager = python.package_manager;
    const file = isObject(manager) ? manager.package_file : undefined;
    if (file !== undefined) {
      if (typeof file !== 'string' || file === '' || file.includes('..')) {
        const line = isObject(manager) ? (json.lineOfKey(manager, 'package_file') ?? 1) : 1;
        throw malformed(
          `${path}:${line}`,
          'python.package_manager.package_file must name a file beside the manifest',
          MANIFEST_HINT,
        );
      }
      manifest.python = await readRequirementsFile(resolve(dirname(path), file));
    }
  }
  return manifest;
}
