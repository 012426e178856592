/** How verify and import name a carried airlock release (the operator installs it next). */
import type { ReleaseReport } from '../bundle/carried-release.js';

export function describeRelease(r: ReleaseReport): string {
  return (
    `carried release: ${r.name} (airlock ${r.version}, ${r.platform}), sha256 ${r.sha256}, ` +
    `matches the manifest${r.signed ? '; its own .sig came along' : ''}`
  );
}
