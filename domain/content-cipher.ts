/**
 * Case content at rest (`cases.content`: the subject's name and ID number, the request's fields) is
 * sealed with AES-256-GCM under the payload key (PAYLOAD_KEY), so the read model in PostgreSQL holds no
 * readable personal data. The envelope names its key (`kid`, the same id as the Temporal payload codec's)
 * so any key of the ring (PAYLOAD_KEYS) decrypts old rows after a rotation; the case id is authenticated with it (AAD),
 * so a sealed content copied onto another case does not open. Rows written before encryption are plain
 * JSON objects without the envelope's marker and are read as they are (see `isSealed`).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const SEALED_MARKER = 'xiecha-content-v1';

export interface SealedContent {
  sealed: typeof SEALED_MARKER;
  kid: string;
  /** base64 of IV ‖ ciphertext ‖ tag */
  data: string;
}

export interface ContentCipher {
  readonly keyId: string;
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

/** One key, or a ring with the current key first: it seals with the current key and opens with any. */
export function createContentCipher(keys: Buffer | readonly Buffer[]): ContentCipher {
  const ring = Array.isArray(keys) ? keys : [keys as Buffer];
  const key = ring[0];
  if (!key) throw new Error('the content key ring is empty');
  for (const k of ring) if (k.length !== 32) throw new Error('the content key must be 32 bytes');
  const keyId = keyIdOf(key);
  const byId = new Map(ring.map((k) => [keyIdOf(k), k]));
  return {
    keyId,
    seal(caseId, content) {
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
