/** Content types by file name, as CRAN mirrors and PyPI send them. */
export function contentTypeOf(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (name === 'PACKAGES') return 'text/plain; charset=utf-8';
  if (name === 'PACKAGES.gz') return 'application/gzip';
  if (name.endsWith('.tar.gz') || name.endsWith('.tgz')) return 'application/x-gzip';
  if (name.endsWith('.zip')) return 'application/zip';
  if (name.endsWith('.json')) return 'application/json';
  // PEP 658 metadata is an RFC 822-style text file, in whatever encoding the wheel used.
  if (name.endsWith('.metadata')) return 'text/plain';
  return 'application/octet-stream';
}
