/**
 * Turns AWS SDK failures into StorageErrors (exit 5) that name the bucket and key and say
 * what to fix: credentials, the bucket, the endpoint.
 */
import { StorageError } from '../errors.js';

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

const HINTS: Record<string, string> = {
  NoSuchBucket: 'the bucket does not exist: create it or correct the s3://bucket/prefix URL',
  AccessDenied:
    'access denied: the credentials need s3:GetObject, s3:PutObject, s3:DeleteObject, s3:ListBucket and s3:AbortMultipartUpload on this bucket and prefix',
  InvalidAccessKeyId:
    'the access key is unknown to this store: check AWS_ACCESS_KEY_ID / the AWS profile',
  SignatureDoesNotMatch: 'the secret key is wrong: check AWS_SECRET_ACCESS_KEY / the AWS profile',
  CredentialsProviderError:
    'no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or an instance role',
  ECONNREFUSED:
    'nothing answers at the S3 endpoint: check --s3-endpoint / AWS_ENDPOINT_URL and that the store is running',
  ENOTFOUND: 'the S3 endpoint host name does not resolve: check --s3-endpoint / AWS_ENDPOINT_URL',
  EntityTooLarge: 'the store refused an object this large: check its upload limits',
  SlowDown:
    'the store kept asking to slow down through every retry: run the same command again later, or raise the request rate the store allows',
  QuotaExceeded: 'the store is out of quota: free space or raise the quota, then run again',
};

export function isS3NotFound(err: unknown): boolean {
  const e = err as SdkError;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

export function isS3PreconditionFailed(err: unknown): boolean {
  const e = err as SdkError;
  const status = e?.$metadata?.httpStatusCode;
  // 409 ConditionalRequestConflict: another conditional write to the key is in flight.
  return e?.name === 'PreconditionFailed' || status === 412 || status === 409;
}

export function s3ErrorFrom(err: unknown, action: string, url: string): StorageError {
  if (err instanceof StorageError) return err;
  const e = err as SdkError;
  const name = e?.name ?? e?.code ?? 'ES3';
  const status = e?.$metadata?.httpStatusCode;
  const hint =
    HINTS[name] ??
    (e?.code ? HINTS[e.code] : undefined) ??
    (status === 403 ? HINTS.AccessDenied : undefined) ??
    (status !== undefined && status >= 500
      ? 'the store failed through every retry: check its health, then run the same command again (it resumes)'
      : undefined) ??
    'check the bucket, the credentials and the endpoint, then run the same command again';
  const attempts = e?.$metadata?.attempts;
  const tries = attempts !== undefined && attempts > 1 ? ` after ${attempts} attempts` : '';
  const detail = `${name}${status ? ` (HTTP ${status})` : ''}${tries}: ${e?.message ?? String(err)}`;
  return new StorageError(`cannot ${action} ${url}: ${detail}`, {
    hint,
    cause: err,
    code: 'ES3',
  });
}
