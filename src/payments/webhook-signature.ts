import { createHmac, timingSafeEqual } from 'node:crypto';

/** How far a signature's timestamp may be from our clock, either way: a replayed old request is refused. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

/** The header the payment provider signs its webhooks with: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const SIGNATURE_HEADER = 'payment-signature';

export type SignatureVerdict =
  | { readonly valid: true }
  | {
      readonly valid: false;
      /** Which check failed: said to the caller (nothing about the secret or the expected value). */
      readonly reason: 'missing' | 'malformed' | 'stale' | 'mismatch';
    };

/** The hex HMAC-SHA256 the provider computes: over `<timestamp>.<raw body>`, keyed by the shared secret. */
export function signPayload(secret: string, timestamp: number, rawBody: Buffer | string): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

/** The header value a provider would send for this body at this time (tests and the dev `pay` helper). */
export function signatureHeader(secret: string, timestamp: number, rawBody: Buffer | string): string {
  return `t=${timestamp},v1=${signPayload(secret, timestamp, rawBody)}`;
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/**
 * Checks a webhook's signature header against its raw body, in the style of the large payment providers:
 * the timestamp must be within the tolerance of `nowSeconds`, and one of the `v1` signatures (a provider
 * rolling its secret sends two) must equal the HMAC, compared in constant time.
 */
export function verifySignature(
  header: string | undefined,
  rawBody: Buffer,
  secret: string,
  nowSeconds: number,
): SignatureVerdict {
  if (header === undefined || header.trim() === '') return { valid: false, reason: 'missing' };
  let timestamp: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const separator = part.indexOf('=');
    if (separator <= 0) return { valid: false, reason: 'malformed' };
    const key = part.slice(0, separator).trim();
    const value = part.slice(separator + 1).trim();
    if (key === 't') {
      if (!/^\d{1,12}$/.test(value) || timestamp !== null) return { valid: false, reason: 'malformed' };
      timestamp = Number(value);
    } else if (key === 'v1') {
      if (!HEX_SHA256.test(value)) return { valid: false, reason: 'malformed' };
      signatures.push(value);
    }
    // Other schemes (v0, …) are ignored, as the providers document.
  }
  if (timestamp === null || signatures.length === 0) return { valid: false, reason: 'malformed' };
  if (Math.abs(nowSeconds - timestamp) > SIGNATURE_TOLERANCE_SECONDS)
    return { valid: false, reason: 'stale' };
  const expected = Buffer.from(signPayload(secret, timestamp, rawBody), 'hex');
  // Every candidate is compared (no early exit), each in constant time.
  let matched = false;
  for (const signature of signatures) {
    if (timingSafeEqual(expected, Buffer.from(signature, 'hex'))) matched = true;
  }
  return matched ? { valid: true } : { valid: false, reason: 'mismatch' };
}
