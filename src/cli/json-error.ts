/**
 * A failed command under --json still prints one JSON object on stdout, so a script that
 * parses stdout learns what failed instead of reading nothing:
 * {"ok":false,"error":{"code","message","hint","exitCode"}}. The human message goes to stderr
 * as always.
 */
import { AirlockError, redactSecrets } from '../errors.js';

/**
 * Whether the command line asks for --json. Read from argv rather than from each command's
 * parsed options: a failure can come before (or without) them, from yargs' own validation.
 */
export function jsonRequested(argv: readonly string[] = process.argv.slice(2)): boolean {
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (arg === '--json') json = argv[i + 1] === 'false' ? false : true;
    else if (arg === '--no-json') json = false;
    else if (arg.startsWith('--json=')) json = arg.slice('--json='.length) !== 'false';
  }
  return json;
}

export interface JsonErrorObject {
  ok: false;
  error: { code: string; message: string; hint: string | null; exitCode: number };
}

export function jsonError(
  err: unknown,
  exitCode: number,
  fallback: { code: string; message?: string; hint?: string } = { code: 'EINTERNAL' },
): JsonErrorObject {
  if (err instanceof AirlockError) {
    return {
      ok: false,
      error: { code: err.code, message: err.message, hint: err.hint ?? null, exitCode },
    };
  }
  const message = fallback.message ?? (err instanceof Error ? err.message : String(err));
  return {
    ok: false,
    error: {
      code: fallback.code,
      message: redactSecrets(message),
      hint: fallback.hint ?? null,
      exitCode,
    },
  };
}

export function printJsonError(value: JsonErrorObject): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
