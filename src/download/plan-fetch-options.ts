/**
 * What every request planning makes carries: the run's dispatcher (proxy, CA, connection
 * cap), its stop signal, its bandwidth cap and its retry reports. One place, so no index,
 * metadata or archive read can skip a rule the transfers obey.
 */
import type { FetchBytesOptions } from '../fetch/fetch-bytes.js';
import type { PlanContext } from './plan-types.js';

export function planFetchOptions(
  ctx: PlanContext,
  headers?: Record<string, string>,
): FetchBytesOptions {
  return {
    dispatcher: ctx.dispatcher,
    ...(headers ? { headers } : {}),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    ...(ctx.limiter ? { limiter: ctx.limiter } : {}),
    ...(ctx.onRetry ? { onRetry: ctx.onRetry } : {}),
  };
}
