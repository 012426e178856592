/**
 * published.json: THE pointer to what a repository serves. Readers (serve, status, check)
 * start here and follow it to immutable snapshot documents; an import replaces it in one
 * atomic write, last, so a reader sees the previous state or the complete new one.
 */
import type { SourceType } from '../model.js';
import { SHA256_HEX } from '../model.js';
import { Fields, isObject, parseJsonObject, type Json } from './document-json.js';
import { isBundleId, PUBLISHED_KEY, REPOSITORY_FORMAT } from './layout.js';
import type { Storage } from './storage.js';

export interface PublishedSnapshot {
  /** sha256 of the snapshot document: read it with readSnapshotDocument(). */
  document: string;
  entries: number;
  bytes: number;
  publishedAt: string;
  /** Id of the bundle that published this snapshot. */
  bundle: string;
}

export interface PublishedSource {
  type: SourceType;
  /** Served path template containing '{snapshot}' (SnapshotDescriptor.servedTemplate). */
  servedTemplate: string;
  distribution?: string;
  /** By snapshot id ('YYYY-MM-DD'). */
  snapshots: Record<string, PublishedSnapshot>;
}

export interface Published {
  format: number;
  /** Increases by one with every publish that changed something. */
  generation: number;
  updatedAt: string;
  /** By source name. */
  sources: Record<string, PublishedSource>;
}

const SOURCE_TYPES: readonly string[] = ['cran', 'cran-binary', 'pypi'];
// Source names and snapshot ids become URL segments in `airlock serve`.
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** What the repository publishes now, or undefined for a repository nothing was imported into. */
export async function readPublished(storage: Storage): Promise<Published | undefined> {
  const bytes = await storage.readBuffer(PUBLISHED_KEY);
  return bytes === undefined ? undefined : parsePublished(bytes, storage.location);
}

/** The newest snapshot id of a source (ids sort as dates): what `latest` serves. */
export function latestSnapshotId(source: PublishedSource): string | undefined {
  return Object.keys(source.snapshots).sort().at(-1);
}

export function emptyPublished(): Published {
  return {
    format: REPOSITORY_FORMAT,
    generation: 0,
    updatedAt: new Date(0).toISOString(),
    sources: {},
  };
}

export function serializePublished(published: Published): string {
  return `${JSON.stringify(published, null, 2)}\n`;
}

export function parsePublished(bytes: Buffer, location: string): Published {
  const f = new Fields(PUBLISHED_KEY, location);
  const obj = parseJsonObject(bytes, PUBLISHED_KEY, location);
  const format = f.count(obj, 'format');
  if (format > REPOSITORY_FORMAT) f.fail(`format ${format} is newer than this airlock reads`);
  const sourcesObj = f.object(obj, 'sources');
  const sources: Record<string, PublishedSource> = {};
  for (const [name, value] of Object.entries(sourcesObj)) {
    if (!SAFE_NAME.test(name)) f.fail(`source name ${JSON.stringify(name)} is not safe in a URL`);
    sources[name] = parseSource(
      f,
      isObject(value) ? value : f.fail(`source "${name}" is not an object`),
    );
  }
  return {
    format,
    generation: f.count(obj, 'generation'),
    updatedAt: f.string(obj, 'updatedAt'),
    sources,
  };
}

function parseSource(f: Fields, obj: Json): PublishedSource {
  const type = f.string(obj, 'type');
  if (!SOURCE_TYPES.includes(type)) f.fail(`unknown source type "${type}"`);
  const servedTemplate = f.string(obj, 'servedTemplate');
  if (!servedTemplate.includes('{snapshot}') || servedTemplate.split('/').includes('..')) {
    f.fail(`servedTemplate "${servedTemplate}" is not a safe template with {snapshot}`);
  }
  const distribution = f.optionalString(obj, 'distribution');
  const snapshots: Record<string, PublishedSnapshot> = {};
  for (const [id, value] of Object.entries(f.object(obj, 'snapshots'))) {
    if (!SAFE_NAME.test(id)) f.fail(`snapshot id ${JSON.stringify(id)} is not safe in a URL`);
    if (!isObject(value)) f.fail(`snapshot "${id}" is not an object`);
    const bundle = f.string(value, 'bundle');
    if (!isBundleId(bundle)) f.fail(`snapshot "${id}" names an invalid bundle id`);
    snapshots[id] = {
      document: f.string(value, 'document', SHA256_HEX),
      entries: f.count(value, 'entries'),
      bytes: f.count(value, 'bytes'),
      publishedAt: f.string(value, 'publishedAt'),
      bundle,
    };
  }
  return {
    type: type as SourceType,
    servedTemplate,
    ...(distribution === undefined ? {} : { distribution }),
    snapshots,
  };
}
