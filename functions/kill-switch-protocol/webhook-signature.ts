import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The signature on the breaker's kill-switch webhook (and on requests to the guard's HTTP
 * endpoint, when it is given a secret). Stripe-style, so the usual verification code applies:
 *
 *   X-Breaker-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 *
 * The timestamp is inside the MAC, so a captured request cannot be replayed after the tolerance;
 * within it, a replay only repeats what the receiver already applied (keepKillSwitch). During a secret
 * rotation the sender may put several v1= entries; the receiver accepts any that verifies with any
 * of its secrets. Verify over the raw body bytes, before parsing the JSON.
 */
export const SIGNATURE_HEADER = 'x-breaker-signature';
export const DELIVERY_HEADER = 'x-breaker-delivery';
/** A signature older (or further in the future) than this is rejected. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export function signatureOf(secret: string, timestampSeconds: number, rawBody: string): string {
  return createHmac('sha256', secret).update(`${timestampSeconds}.${rawBody}`, 'utf8').digest('hex');
}

/** The header value for `rawBody`, signed now with each secret (normally one). */
export function signBody(secrets: string | readonly string[], rawBody: string, nowMs: number): string {
  const t = Math.floor(nowMs / 1000);
  const list = secretList(secrets);
  return [`t=${t}`, ...list.map((s) => `v1=${signatureOf(s, t, rawBody)}`)].join(',');
}

export type SignatureCheck =
  | { ok: true; timestampSeconds: number }
  | { ok: false; reason: 'missing' | 'malformed' | 'expired' | 'mismatch' };

/**
 * Check a signature header against the raw body. Constant-time comparison. Throws RangeError for a
 * secret shorter than 16 characters: a receiver whose secret variable is unset must not accept MACs
 * anyone can compute with the empty key.
 */
export function verifySignature(
  secrets: string | readonly string[],
  rawBody: string,
  header: string | string[] | undefined,
  nowMs: number,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): SignatureCheck {
  const list = secretList(secrets);
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return { ok: false, reason: 'missing' };
  let t: number | undefined;
  const macs: string[] = [];
  for (const part of value.split(',')) {
    const [k, v] = part.trim().split('=', 2);
    if (k === 't' && v && /^\d{1,12}$/.test(v)) t = Number(v);
    else if (k === 'v1' && v && /^[0-9a-f]{64}$/.test(v)) macs.push(v);
  }
  if (t === undefined || macs.length === 0) return { ok: false, reason: 'malformed' };
  if (Math.abs(nowMs / 1000 - t) > toleranceSeconds) return { ok: false, reason: 'expired' };
  for (const secret of list) {
    const expected = Buffer.from(signatureOf(secret, t, rawBody), 'hex');
    for (const mac of macs) {
      if (timingSafeEqual(expected, Buffer.from(mac, 'hex'))) return { ok: true, timestampSeconds: t };
    }
  }
  return { ok: false, reason: 'mismatch' };
}

function secretList(secrets: string | readonly string[]): readonly string[] {
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  if (list.length === 0 || list.some((s) => typeof s !== 'string' || s.length < 16)) {
    throw new RangeError('webhook secret must be at least 16 characters');
  }
  return list;
}
