/**
 * The refusal every reader of a repository (status, check, serve) makes first: a location
 * that holds no repository is a mistyped path or bucket, and serving or reporting an empty
 * repository from it would hide that forever. Only `import` creates a repository.
 */
import { UsageError } from '../errors.js';
import { PUBLISHED_KEY, REPOSITORY_CONFIG_KEY } from './layout.js';
import type { Storage } from './storage.js';

export async function requireRepository(storage: Storage): Promise<void> {
  // A repository written before airlock-repository.json existed has published.json.
  if (await storage.stat(REPOSITORY_CONFIG_KEY)) return;
  if (await storage.stat(PUBLISHED_KEY)) return;
  if (await storage.stat('state.db')) {
    throw new UsageError(`${storage.location} is an airlock workspace, not a repository`, {
      hint: 'give a workspace with --workspace (status, bundle); a repository is the far side',
    });
  }
  throw new UsageError(
    `${storage.location} is not an airlock repository (it holds no ${REPOSITORY_CONFIG_KEY})`,
    {
      hint: `check the --repo location; a repository is created by its first \`airlock import MANIFEST --repo ${storage.location}\``,
    },
  );
}
