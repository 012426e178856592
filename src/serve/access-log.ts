/** One access-log record per request; the CLI prints it in common log format or as JSON. */
export interface AccessLogEntry {
  /** When the request arrived. */
  time: Date;
  remote: string;
  method: string;
  /** The request target as sent (path and query). */
  path: string;
  httpVersion: string;
  status: number;
  /** Body bytes sent. */
  bytes: number;
  /** Milliseconds from arrival to the end of the response. */
  ms: number;
  userAgent: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `127.0.0.1 - - [01/Nov/2026:13:55:36 +0000] "GET /cran/latest/src/contrib/PACKAGES HTTP/1.1" 200 2326` */
export function formatCommonLog(entry: AccessLogEntry): string {
  const t = entry.time;
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${pad(t.getUTCDate())}/${MONTHS[t.getUTCMonth()]}/${t.getUTCFullYear()}:${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())} +0000`;
  // A request line with quotes or control characters must not be able to forge log fields.
  const request = `${entry.method} ${entry.path} HTTP/${entry.httpVersion}`.replace(
    /["\\\x00-\x1f\x7f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  return `${entry.remote || '-'} - - [${stamp}] "${request}" ${entry.status} ${entry.bytes > 0 ? entry.bytes : '-'}`;
}

/** The same record as one JSON line. */
export function formatJsonLog(entry: AccessLogEntry): string {
  return JSON.stringify({ ...entry, time: entry.time.toISOString() });
}
