/**
 * The fingerprint of an Ed25519 public key, as OpenSSH writes it: `SHA256:` and the base64 of
 * the sha256 of the raw 32-byte key, without padding. Short enough to read out by phone, and
 * computable without airlock (README, "Trust"):
 *   openssl pkey -pubin -in KEY.pub -outform DER | tail -c 32 | openssl dgst -sha256 -binary | base64 | tr -d =
 */
import { createHash, type KeyObject } from 'node:crypto';

export function keyFingerprint(publicKey: KeyObject): string {
  // An SPKI Ed25519 key is a 12-byte algorithm header and the 32 raw bytes of the key.
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const raw = der.subarray(der.length - 32);
  return `SHA256:${createHash('sha256').update(raw).digest('base64').replace(/=+$/, '')}`;
}

/** A fingerprint as an operator may type it: the `SHA256:` prefix is optional. */
export function sameFingerprint(a: string, b: string): boolean {
  const strip = (f: string): string => f.trim().replace(/^SHA256:/i, '');
  return strip(a) === strip(b);
}
