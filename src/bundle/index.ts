/** The bundle stage: write (airlock bundle), read and verify (airlock verify, import), keygen. */
export { writeBundle, type WriteBundleOptions, type NothingNew } from './write.js';
export { openBundle, describePart, type OpenedBundle, type OpenBundleOptions } from './open.js';
export { readBundle, type BundleReadHandlers, type ReadResult } from './read.js';
export { verifyBundle, type VerifyOptions } from './verify.js';
export { generateKeyPairFiles, type KeyPairFiles } from './keygen.js';
export { keyFingerprint } from './key-fingerprint.js';
export { parseSize, partLimit, formatSize, MIN_PART_SIZE, FAT32_MAX_FILE } from './size.js';
export {
  parseManifest,
  type BundleManifest,
  type ManifestPart,
  type ManifestSnapshot,
} from './manifest.js';
export type * from './events.js';
export type * from './index-records.js';
export type * from './workspace-view.js';
export { BUNDLE_FORMAT_VERSION } from './index-records.js';
