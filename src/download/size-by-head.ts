/**
 * For a dry run: sizes the new files the index gives no size for (CRAN's PACKAGES has none)
 * with HEAD requests, `concurrency` at a time through the run's dispatcher, so the plan can
 * say how much disk the run needs. Files whose size stays unknown are counted as such.
 */
import pLimit from 'p-limit';
import { headSize } from '../fetch/head-size.js';
import type { PlanContext, PlannedFile } from './plan-types.js';

/** How many files were asked, and how many of them stayed without a size. */
export interface HeadSizing {
  asked: number;
  unknown: number;
}

export async function sizeByHead(ctx: PlanContext, files: PlannedFile[]): Promise<HeadSizing> {
  const limit = pLimit(ctx.config.concurrency);
  const unsized = files.filter((f) => f.size === undefined && f.present === undefined);
  await Promise.all(
    unsized.map((file) =>
      limit(async () => {
        ctx.signal?.throwIfAborted();
        const size = await headSize(file.url, {
          dispatcher: ctx.dispatcher,
          ...(file.headers ? { headers: file.headers } : {}),
          ...(ctx.signal ? { signal: ctx.signal } : {}),
        });
        if (size !== undefined) file.size = size;
      }),
    ),
  );
  return { asked: unsized.length, unknown: unsized.filter((f) => f.size === undefined).length };
}
