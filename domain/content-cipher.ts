/**
 * Case content at rest (`cases.content`: the subject's name and ID number, the request's fields) is
 * sealed with AES-256-GCM under the payload key (PAYLOAD_KEY), so the read model in PostgreSQL holds no
 * readable personal data. The envelope names its key (`kid`, the same id as the Temporal payload codec's)
 * so a later key ring can decrypt old rows after a rotation; the case id is authenticated with it (AAD),
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

export function createContentCipher(key: Buffer): ContentCipher {
  if (key.length !== 32) throw new Error('the content key must be 32 bytes');
  const keyId = keyIdOf(key);
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
      if (stored.kid !== keyId) throw new Error(`case content is sealed with an unknown key ${stored.kid}`);
      const data = Buffer.from(stored.data, 'base64');
      if (data.length < IV_BYTES + TAG_BYTES) throw new Error('sealed case content is truncated');
      const decipher = createDecipheriv(CIPHER, key, data.subarray(0, IV_BYTES));
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
