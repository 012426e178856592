/**
 * CRAN-like repositories over one snapshot: src/contrib/PACKAGES(.gz), package files and
 * Archive/, byte for byte as imported. For a cran-binary source one URL serves the binary
 * built for the client's R minor version (from its User-Agent, as Package Manager does) and
 * falls back to the source file when that R version has no binary.
 */
import type { Variant } from '../model.js';
import { variantForR } from '../model.js';
import { contentTypeOf } from './content-type.js';
import { rMinorFromUserAgent } from './http-headers.js';
import { sendBlob, sendText } from './send.js';
import {
  cacheControl,
  findPackageFile,
  lastModified,
  type SnapshotRequest,
} from './snapshot-request.js';

export async function serveCran(sr: SnapshotRequest): Promise<void> {
  const { rest, route } = sr.match;
  const where = `snapshot ${sr.snapshot.id} of source ${route.source}`;
  if (rest === '' || rest.endsWith('/')) {
    return sendText(
      sr.ex,
      404,
      `${where} is a CRAN-like repository: R reads src/contrib/PACKAGES under it\n`,
    );
  }
  if (rest.endsWith('/PACKAGES.rds')) {
    // R tries PACKAGES.rds first; an imported .rds could describe more than the filtered
    // PACKAGES does, so it is never served and R falls back to PACKAGES.gz.
    return sendText(
      sr.ex,
      404,
      `PACKAGES.rds is not served: R falls back to PACKAGES.gz (${where})\n`,
    );
  }
  const binary = route.type === 'cran-binary';
  const variants: Variant[] = binary ? variantsFor(sr.ex.req.headers['user-agent']) : [''];
  const file = await findPackageFile(sr, rest, variants);
  const vary = binary ? ['User-Agent'] : [];
  if (!file) {
    return sendText(
      sr.ex,
      404,
      `no file ${rest} in ${where}\n`,
      binary ? { Vary: 'User-Agent' } : {},
    );
  }
  const compressible = file.role === 'index' && !rest.endsWith('.gz');
  await sendBlob(
    sr.ex,
    sr.storage,
    file,
    {
      contentType: contentTypeOf(rest),
      cacheControl: cacheControl(sr, file.role),
      lastModified: lastModified(sr),
      vary,
    },
    { compressible },
  );
}

function variantsFor(userAgent: string | undefined): Variant[] {
  const minor = rMinorFromUserAgent(userAgent);
  return minor ? [variantForR(minor), ''] : [''];
}
