/**
 * The package lists an operator can hand over instead of (or besides) `packages:`: pip
 * requirements files, renv.lock, an R DESCRIPTION, a Posit Connect manifest.json. Every
 * malformed file is a ConfigError naming the file and line, with a hint.
 */
export {
  readRequirementsFile,
  type RequirementLine,
  type RequirementsFile,
} from './requirements-txt.js';
export {
  parseDescription,
  parseRenvLock,
  readDescription,
  readRenvLock,
  type DescriptionOptions,
  type DescriptionRequirements,
  type RenvLock,
  type RRequirement,
} from './r-inputs.js';
export { readConnectManifest, type ConnectManifest } from './connect-manifest.js';
export { pythonRequirementsFromList, rRequirementsFromList } from './package-lists.js';
