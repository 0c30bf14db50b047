/**
 * The signed request of a government data-sharing exchange (数据共享交换平台), as both sides see it: the
 * caller (activities/connectors/http.ts) signs, the data service (app/demo-data-service.ts, or a real
 * exchange) verifies. The scheme follows what such gateways publish: an application key and secret issued
 * by the exchange, and per request a timestamp, a one-time nonce and the SHA-256 of the body, all covered by
 * an HMAC-SHA256 over
 *
 *     METHOD \n PATH \n TIMESTAMP \n NONCE \n BODY-SHA256
 *
 * sent as headers `X-App-Key`, `X-Timestamp` (Unix milliseconds), `X-Nonce`, `X-Content-SHA256` (hex) and
 * `X-Signature` (base64). The verifier refuses an unknown key, a body that does not match its hash, a bad
 * signature, a timestamp more than five minutes off its clock, and a nonce it has already seen.
 *
 * Also here: the canonical JSON of a response and its SHA-256, the evidence hash an automatic answer keeps.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADERS = {
  appKey: 'x-app-key',
  timestamp: 'x-timestamp',
  nonce: 'x-nonce',
  bodyHash: 'x-content-sha256',
  signature: 'x-signature',
} as const;

/** How far the caller's clock may be from the verifier's. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

export const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** JSON with object keys sorted at every level and no whitespace: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The evidence hash of a data source's answer: SHA-256 of its canonical JSON. */
export const evidenceHash = (response: unknown): string => sha256Hex(canonicalJson(response));

export function stringToSign(p: {
  method: string;
  path: string;
  timestamp: string;
  nonce: string;
  bodyHash: string;
}): string {
  return [p.method.toUpperCase(), p.path, p.timestamp, p.nonce, p.bodyHash].join('\n');
}

export const hmacBase64 = (secret: string, text: string): string =>
  createHmac('sha256', secret).update(text).digest('base64');

/** The headers of a signed request (`path` with its query string, as sent). */
export function signRequest(p: {
  appKey: string;
  appSecret: string;
  method: string;
  path: string;
  body: string;
  now?: number;
  nonce?: string;
}): Record<string, string> {
  const timestamp = String(p.now ?? Date.now());
  const nonce = p.nonce ?? randomBytes(16).toString('hex');
  const bodyHash = sha256Hex(p.body);
  const signature = hmacBase64(
    p.appSecret,
    stringToSign({ method: p.method, path: p.path, timestamp, nonce, bodyHash }),
  );
  return {
    [SIGNATURE_HEADERS.appKey]: p.appKey,
    [SIGNATURE_HEADERS.timestamp]: timestamp,
    [SIGNATURE_HEADERS.nonce]: nonce,
    [SIGNATURE_HEADERS.bodyHash]: bodyHash,
    [SIGNATURE_HEADERS.signature]: signature,
  };
}

export type SignatureRefusal =
  | 'missing_headers'
  | 'unknown_app'
  | 'bad_body_hash'
  | 'bad_signature'
  | 'clock_skew'
  | 'replayed_nonce';

/** Nonces seen within the skew window (twice the window is kept: a nonce cannot come back in time). */
export class NonceCache {
  private readonly seen = new Map<string, number>();
  constructor(private readonly ttlMs = 2 * MAX_CLOCK_SKEW_MS) {}
  /** true the first time; false for a nonce already seen (per app key). */
  claim(key: string, now: number): boolean {
    if (this.seen.size > 10_000) for (const [k, t] of this.seen) if (t <= now) this.seen.delete(k);
    const until = this.seen.get(key);
    if (until !== undefined && until > now) return false;
    this.seen.set(key, now + this.ttlMs);
    return true;
  }
}

/** Checks a signed request; `secretOf` returns the secret of an application key (undefined: unknown). */
export function verifySignedRequest(p: {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  secretOf: (appKey: string) => string | undefined;
  nonces: NonceCache;
  now?: number;
}): { ok: true; appKey: string } | { ok: false; refusal: SignatureRefusal } {
  const h = (name: string): string | undefined => {
    const v = p.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const appKey = h(SIGNATURE_HEADERS.appKey);
  const timestamp = h(SIGNATURE_HEADERS.timestamp);
  const nonce = h(SIGNATURE_HEADERS.nonce);
  const bodyHash = h(SIGNATURE_HEADERS.bodyHash);
  const signature = h(SIGNATURE_HEADERS.signature);
  if (!appKey || !timestamp || !nonce || !bodyHash || !signature)
    return { ok: false, refusal: 'missing_headers' };
  const secret = p.secretOf(appKey);
  if (!secret) return { ok: false, refusal: 'unknown_app' };
  if (sha256Hex(p.body) !== bodyHash) return { ok: false, refusal: 'bad_body_hash' };
  const expected = Buffer.from(
    hmacBase64(secret, stringToSign({ method: p.method, path: p.path, timestamp, nonce, bodyHash })),
  );
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return { ok: false, refusal: 'bad_signature' };
  const now = p.now ?? Date.now();
  const ts = Number(timestamp);
  if (!Number.isFinite(ts) || Math.abs(now - ts) > MAX_CLOCK_SKEW_MS)
    return { ok: false, refusal: 'clock_skew' };
  // Only a request with a valid signature may spend a nonce (a forger cannot block a caller's nonce).
  if (!p.nonces.claim(`${appKey}\n${nonce}`, now)) return { ok: false, refusal: 'replayed_nonce' };
  return { ok: true, appKey };
}
