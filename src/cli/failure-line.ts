/**
 * How a file that could not be fetched is named in the log: the URL once (the error's message
 * usually names it already) and, for a Linux binary, the R version it was for: one URL serves
 * a different file per R minor, so "airC_1.0.tar.gz failed" alone does not say which.
 */
import { rMinorOfVariant, type Variant } from '../model.js';

export function failureLine(failure: { url: string; variant: Variant; reason: string }): string {
  const r = rMinorOfVariant(failure.variant);
  const forR = r === undefined ? '' : `[R ${r}] `;
  return failure.reason.includes(failure.url)
    ? `${forR}${failure.reason}`
    : `${forR}${failure.url}: ${failure.reason}`;
}
