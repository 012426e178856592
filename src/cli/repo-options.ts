/** The --repo/--s3-endpoint options every disconnected-side command shares. */
import type { Argv } from 'yargs';
import { openStorage, type OpenStorageOptions } from '../repo/open-storage.js';
import { requireRepository } from '../repo/require-repository.js';
import type { Storage } from '../repo/storage.js';

export interface RepoArgs {
  repo: string;
  's3-endpoint'?: string;
}

export function repoOptions<T>(a: Argv<T>): Argv<T & RepoArgs> {
  return a
    .option('repo', {
      type: 'string',
      demandOption: true,
      describe: 'repository: a directory or s3://bucket/prefix',
    })
    .option('s3-endpoint', {
      type: 'string',
      describe: 'S3-compatible endpoint URL (else AWS_ENDPOINT_URL); uses path-style addressing',
    }) as unknown as Argv<T & RepoArgs>;
}

/** --workspace or --repo (with --s3-endpoint): the commands that work on either side. */
export function eitherSideOptions<T>(
  a: Argv<T>,
): Argv<T & { workspace?: string; repo?: string; 's3-endpoint'?: string }> {
  return a
    .option('workspace', { type: 'string', describe: 'workspace directory' })
    .option('repo', { type: 'string', describe: 'repository: a directory or s3://bucket/prefix' })
    .option('s3-endpoint', {
      type: 'string',
      describe: 'S3-compatible endpoint URL (else AWS_ENDPOINT_URL)',
    })
    .conflicts('workspace', 'repo') as unknown as Argv<
    T & { workspace?: string; repo?: string; 's3-endpoint'?: string }
  >;
}

/** Opens the repository; without `create` (only import creates one) it must already be one. */
export async function openRepo(args: RepoArgs, opts: OpenStorageOptions = {}): Promise<Storage> {
  const storage = await openStorage(args.repo, {
    ...opts,
    ...(args['s3-endpoint'] ? { s3Endpoint: args['s3-endpoint'] } : {}),
  });
  if (opts.create) return storage;
  try {
    await requireRepository(storage);
    return storage;
  } catch (err) {
    await storage.close();
    throw err;
  }
}
