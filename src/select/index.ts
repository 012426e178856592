/**
 * Which files to carry: target environments, the package lists operators hand over, and the
 * R and Python dependency closures over an upstream index.
 */
export {
  buildEnvironment,
  parseEnvironments,
  pythonTagsFor,
  rMinorsFor,
  type TargetEnvironment,
} from './environments.js';
export { distributionFromImage, distributionLibc, KNOWN_DISTRIBUTIONS } from './distributions.js';
export {
  environmentsFromRuntimesYaml,
  parseRuntimesYaml,
  readRuntimesYaml,
  type RuntimesOptions,
  type RuntimesResult,
} from './runtimes-yaml.js';
export * from './inputs.js';
export {
  resolveRClosure,
  type RClosure,
  type RClosureOptions,
  type RIndexLike,
  type RIndexPackage,
  type RMissing,
  type RSelected,
  type RUnsatisfied,
} from './r-closure.js';
export {
  resolvePythonClosure,
  type CarriedFile,
  type ChosenRelease,
  type EnvironmentResolution,
  type PythonClosure,
  type PythonClosureInput,
  type Unsatisfiable,
  type VersionsPolicy,
} from './python-closure.js';
export {
  filesForEnvironment,
  groupReleases,
  type ProjectRelease,
  type SdistPolicy,
} from './python-candidates.js';
