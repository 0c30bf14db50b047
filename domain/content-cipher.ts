/**
 * Case content at rest (`cases.content`: the subject's name and ID number, the request's fields) is
 * sealed with AES-256-GCM under the payload key (PAYLOAD_KEY), so the read model in PostgreSQL holds no
 * readable personal data. The envelope names its key (`kid`, the same id as the Temporal payload codec's)
 * so any key of the ring (PAYLOAD_KEYS) decrypts old rows after a rotation; the case id is authenticated with it (AAD),
 * so a sealed content copied onto another case does not open. Rows written before encryption are plain
 * JSON objects without the envelope's marker and are read as they are (see `isSealed`).
 *
 * Under the SM profile (CRYPTO_PROFILE=sm, domain/crypto-profile.ts) the content is sealed with SM4 and
 * HMAC-SM3 instead, and the envelope says so (`alg`); an envelope without `alg` is AES-256-GCM. Whatever the
 * profile, every envelope opens, so rows written before a switch stay readable.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { AES_CIPHER_ID, type CryptoProfile, SM4_CIPHER_ID, sm4Open, sm4Seal } from './crypto-profile.ts';

const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const SEALED_MARKER = 'xiecha-content-v1';

export interface SealedContent {
  sealed: typeof SEALED_MARKER;
  kid: string;
  /** The cipher: absent for AES-256-GCM (rows from before the profiles), `sm4-cbc-hmac-sm3` under the SM profile. */
  alg?: string;
  /** base64 of IV ‖ ciphertext ‖ tag (AES-GCM: 16-byte tag; SM4: 32-byte HMAC-SM3) */
  data: string;
}

export interface ContentCipher {
  readonly keyId: string;
  /** The profile new content is sealed under (and the subject ID hash computed with). */
  readonly profile: CryptoProfile;
  /** The cipher new content is sealed with. */
  readonly cipherId: typeof AES_CIPHER_ID | typeof SM4_CIPHER_ID;
  seal(caseId: string, content: Record<string, unknown>): SealedContent;
  /** The content of a row: sealed rows are decrypted, legacy plain rows returned unchanged. */
  open(caseId: string, stored: unknown): Record<string, unknown>;
}

export function isSealed(stored: unknown): stored is SealedContent {
  return (
    typeof stored === 'object' && stored !== null && (stored as { sealed?: unknown }).sealed === SEALED_MARKER
  );
}

export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/**
 * One key, or a ring with the current key first: it seals with the current key (AES-256-GCM, or SM4 under the
 * SM profile) and opens with any key and either cipher.
 */
export function createContentCipher(
  keys: Buffer | readonly Buffer[],
  opts: { profile?: CryptoProfile } = {},
): ContentCipher {
  const sm = opts.profile === 'sm';
  const ring = Array.isArray(keys) ? keys : [keys as Buffer];
  const key = ring[0];
  if (!key) throw new Error('the content key ring is empty');
  for (const k of ring) if (k.length !== 32) throw new Error('the content key must be 32 bytes');
  const keyId = keyIdOf(key);
  const byId = new Map(ring.map((k) => [keyIdOf(k), k]));
  return {
    keyId,
    profile: sm ? 'sm' : 'default',
    cipherId: sm ? SM4_CIPHER_ID : AES_CIPHER_ID,
    seal(caseId, content) {
      if (sm)
        return {
          sealed: SEALED_MARKER,
          kid: keyId,
          alg: SM4_CIPHER_ID,
          data: sm4Seal(key, Buffer.from(JSON.stringify(content)), Buffer.from(caseId)).toString('base64'),
        };
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv(CIPHER, key, iv);
      cipher.setAAD(Buffer.from(caseId));
      const body = Buffer.concat([cipher.update(JSON.stringify(content)), cipher.final()]);
      return {
        sealed: SEALED_MARKER,
        kid: keyId,
        data: Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64'),
      };
    },
    open(caseId, stored) {
      if (!isSealed(stored)) return (stored ?? {}) as Record<string, unknown>;
      const sealedWith = byId.get(stored.kid);
      if (!sealedWith) throw new Error(`case content is sealed with a key not in the ring: ${stored.kid}`);
      const data = Buffer.from(stored.data, 'base64');
      if (stored.alg === SM4_CIPHER_ID)
        return JSON.parse(sm4Open(sealedWith, data, Buffer.from(caseId)).toString('utf8'));
      if (stored.alg !== undefined)
        throw new Error(`case content is sealed with an unknown cipher: ${stored.alg}`);
      if (data.length < IV_BYTES + TAG_BYTES) throw new Error('sealed case content is truncated');
      const decipher = createDecipheriv(CIPHER, sealedWith, data.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(caseId));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return JSON.parse(plain.toString('utf8'));
    },
  };
}
