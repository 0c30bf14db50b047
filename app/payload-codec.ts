/**
 * Encrypts every Temporal payload (inputs, results, Update arguments, and — with the failure converter
 * below — failure messages), so workflow histories stored in Temporal hold no readable personal data: with
 * AES-256-GCM by default, with SM4 and HMAC-SM3 under the SM profile (CRYPTO_PROFILE=sm,
 * domain/crypto-profile.ts). The codec endpoint of the API lets an authenticated operator read them in the
 * Web UI.
 *
 * Each payload names its key (`encryption-key-id`) and, when it is not AES-256-GCM, its cipher
 * (`encryption-cipher`); decoding follows what the payload says, whatever the profile, so histories written
 * before a key rotation or a profile switch still replay.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec, ValueError } from '@temporalio/common';
import proto from '@temporalio/proto';
// A key's public name: the same id the case content cipher stores next to its ciphertext.
import { keyIdOf } from '../domain/content-cipher.ts';
import { type CryptoProfile, SM4_CIPHER_ID, sm4Open, sm4Seal } from '../domain/crypto-profile.ts';

const { temporal } = proto;

const ENCODING = 'binary/encrypted';
const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class PayloadCipherCodec implements PayloadCodec {
  /** Names the current key (not secret); every payload carries the id of the key that encrypted it. */
  readonly keyId: string;
  /** The profile new payloads are encrypted under. */
  readonly profile: CryptoProfile;
  private readonly key: Buffer;
  /** Every key of the ring by id: payloads encrypted before a rotation still decode. */
  private readonly ring: Map<string, Buffer>;

  /** One key, or a ring with the current key first. */
  constructor(keys: Buffer | readonly Buffer[], opts: { profile?: CryptoProfile } = {}) {
    const ring = Array.isArray(keys) ? keys : [keys as Buffer];
    if (!ring.length) throw new ValueError('the payload key ring is empty');
    for (const k of ring) if (k.length !== 32) throw new ValueError('payload key must be 32 bytes');
    this.key = ring[0] as Buffer;
    this.keyId = keyIdOf(this.key);
    this.ring = new Map(ring.map((k) => [keyIdOf(k), k]));
    this.profile = opts.profile ?? 'default';
  }

  private keyFor(payload: Payload): Buffer {
    const id = payload.metadata?.['encryption-key-id'];
    if (!id) return this.key;
    const key = this.ring.get(Buffer.from(id).toString());
    if (!key)
      throw new ValueError(
        `payload encrypted with key ${Buffer.from(id).toString()}, which is not in the ring`,
      );
    return key;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const metadata: Record<string, Uint8Array> = {
        [METADATA_ENCODING_KEY]: Buffer.from(ENCODING),
        'encryption-key-id': Buffer.from(this.keyId),
      };
      if (this.profile === 'sm')
        return {
          metadata: { ...metadata, 'encryption-cipher': Buffer.from(SM4_CIPHER_ID) },
          data: sm4Seal(this.key, plain),
        };
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv(CIPHER, this.key, iv);
      const body = Buffer.concat([cipher.update(plain), cipher.final()]);
      return { metadata, data: Buffer.concat([iv, body, cipher.getAuthTag()]) };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
      if (!encoding || Buffer.from(encoding).toString() !== ENCODING) return payload;
      const data = Buffer.from(payload.data ?? new Uint8Array());
      const cipherId = payload.metadata?.['encryption-cipher'];
      if (cipherId) {
        const name = Buffer.from(cipherId).toString();
        if (name !== SM4_CIPHER_ID) throw new ValueError(`payload encrypted with an unknown cipher: ${name}`);
        return temporal.api.common.v1.Payload.decode(sm4Open(this.keyFor(payload), data));
      }
      if (data.length < IV_BYTES + TAG_BYTES) throw new ValueError('encrypted payload is truncated');
      const decipher = createDecipheriv(CIPHER, this.keyFor(payload), data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }
}
