/**
 * Every failure airlock expects is one of these classes: a stable `code`, the process exit
 * code from DESIGN.md, and a `hint` telling the operator what to do next. The CLI maps them
 * in one place (src/cli/run-command.ts); anything else is a bug and prints a stack.
 */

export const ExitCode = {
  ok: 0,
  usage: 2,
  network: 3,
  integrity: 4,
  storage: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface ErrorDetails {
  hint?: string;
  cause?: unknown;
}

export abstract class AirlockError extends Error {
  abstract readonly exitCode: ExitCode;
  readonly code: string;
  readonly hint: string | undefined;

  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super(redactSecrets(message), details.cause === undefined ? {} : { cause: details.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = details.hint === undefined ? undefined : redactSecrets(details.hint);
  }
}

/** Bad command line or config: exit 2. */
export class UsageError extends AirlockError {
  readonly exitCode = ExitCode.usage;
  constructor(message: string, details?: ErrorDetails) {
    super('EUSAGE', message, details);
  }
}

/** A config file (or a requirements/lock file it names) is invalid: exit 2. */
export class ConfigError extends AirlockError {
  readonly exitCode = ExitCode.usage;
  constructor(message: string, details?: ErrorDetails) {
    super('ECONFIG', message, details);
  }
}

/** Upstream or network failure that remains after retries: exit 3. */
export class NetworkError extends AirlockError {
  readonly exitCode = ExitCode.network;
  readonly url: string | undefined;
  readonly status: number | undefined;
  constructor(
    message: string,
    details: ErrorDetails & { url?: string; status?: number; code?: string } = {},
  ) {
    super(details.code ?? 'ENETWORK', message, details);
    this.url = details.url === undefined ? undefined : redactUrl(details.url);
    this.status = details.status;
  }
}

/** Hash, size, signature, corrupt or unsafe bundle, missing parent: exit 4. */
export class IntegrityError extends AirlockError {
  readonly exitCode = ExitCode.integrity;
  constructor(message: string, details: ErrorDetails & { code?: string } = {}) {
    super(details.code ?? 'EINTEGRITY', message, details);
  }
}

/** Disk full, permissions, S3 errors, a lock held by another process: exit 5. */
export class StorageError extends AirlockError {
  readonly exitCode = ExitCode.storage;
  constructor(message: string, details: ErrorDetails & { code?: string } = {}) {
    super(details.code ?? 'ESTORAGE', message, details);
  }
}

/** Turns an fs error into a StorageError that names the path and says what to fix. */
export function storageErrorFrom(err: unknown, action: string, path: string): StorageError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const hints: Record<string, string> = {
    ENOSPC:
      'the disk is full: free space or choose another location, then run the same command again',
    EDQUOT: 'the disk quota is exhausted: free space or raise the quota, then run again',
    EACCES: 'permission denied: run as a user that may write there, or fix the permissions',
    EPERM: 'operation not permitted: check the permissions and mount options of that location',
    EROFS: 'the file system is read-only: remount it read-write or choose another location',
    ENOENT: 'the path does not exist: check the spelling or create the directory',
  };
  const hint = (code && hints[code]) ?? 'check the location and its permissions, then run again';
  const what = err instanceof Error ? err.message : String(err);
  return new StorageError(`cannot ${action} ${path}: ${what}`, {
    hint,
    cause: err,
    code: code ?? 'ESTORAGE',
  });
}

// Proxy credentials, tokens and keys must never reach a log line or an error message.
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)([^/@\s:]+)(:[^/@\s]*)?@/gi;
const SECRET_QUERY =
  /([?&](?:token|access_token|key|secret|password|signature|x-amz-signature|x-amz-credential)=)[^&\s#]+/gi;

export function redactSecrets(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1***:***@').replace(SECRET_QUERY, '$1***');
}

export function redactUrl(url: string): string {
  return redactSecrets(url);
}
