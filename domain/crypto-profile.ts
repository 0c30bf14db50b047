/**
 * The cryptographic profile (CRYPTO_PROFILE): which algorithms the system writes with.
 *
 * - `default`: AES-256-GCM for Temporal payloads and case content at rest, HMAC-SHA-256 for the audit chain
 *   and the subject ID hash (as before the profile existed).
 * - `sm` (密评, commercial cryptography of GB/T 39786): SM4 (GB/T 32907) for payloads and content at rest,
 *   HMAC-SM3 (RFC 2104 over SM3, GB/T 32905) for the audit chain and the subject ID hash.
 *
 * The profile only decides how new data is written. Every ciphertext names its algorithm next to its key id,
 * and every audit row its MAC version, so data written under one profile stays readable after a switch.
 *
 * SM4 has no authenticated mode in `sm-crypto`, so a sealed SM4 text is SM4-CBC (PKCS#7) then HMAC-SM3 over
 * the associated data, the IV and the ciphertext (encrypt-then-MAC, the MAC checked before decrypting). Both
 * keys are derived from the 32-byte payload key by HMAC-SM3 with distinct labels, so one key ring serves
 * both profiles.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import smCrypto from 'sm-crypto';

// A CommonJS module without named exports Node can see: the default import is its `module.exports`.
const { sm3, sm4 } = smCrypto;

export type CryptoProfile = 'default' | 'sm';
export const CRYPTO_PROFILES: readonly CryptoProfile[] = ['default', 'sm'];

/** The id stored with an SM4 ciphertext (envelope `alg`, payload metadata `encryption-cipher`). */
export const SM4_CIPHER_ID = 'sm4-cbc-hmac-sm3';
/** The id of the default cipher; absent from data written with it (as before the profile existed). */
export const AES_CIPHER_ID = 'aes-256-gcm';

const SM4_BLOCK = 16;
const SM3_BYTES = 32;

/** SM3 digest (GB/T 32905) of bytes or a UTF-8 string. */
export function sm3Digest(data: Uint8Array | string): Buffer {
  return Buffer.from(sm3(typeof data === 'string' ? data : Array.from(data)), 'hex');
}

/** HMAC-SM3 (RFC 2104 with SM3, 64-byte blocks) of the concatenated parts. */
export function hmacSm3(key: Uint8Array, ...parts: (Uint8Array | string)[]): Buffer {
  const message = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
  return Buffer.from(sm3(Array.from(message), { key: Array.from(key) }), 'hex');
}

/** SM4-CBC with PKCS#7 padding (GB/T 32907); `key` and `iv` are 16 bytes. */
export function sm4CbcEncrypt(key: Uint8Array, iv: Uint8Array, plain: Uint8Array): Buffer {
  return Buffer.from(
    sm4.encrypt(Array.from(plain), Array.from(key), { mode: 'cbc', iv: Array.from(iv), output: 'array' }),
  );
}

export function sm4CbcDecrypt(key: Uint8Array, iv: Uint8Array, body: Uint8Array): Buffer {
  return Buffer.from(
    sm4.decrypt(Array.from(body), Array.from(key), { mode: 'cbc', iv: Array.from(iv), output: 'array' }),
  );
}

/** One block of SM4 without mode or padding: what the standard's example vector checks. */
export function sm4EncryptBlock(key: Uint8Array, block: Uint8Array): Buffer {
  return Buffer.from(sm4.encrypt(Array.from(block), Array.from(key), { padding: 'none', output: 'array' }));
}

interface SmKeys {
  enc: Buffer;
  mac: Buffer;
}

const derived = new WeakMap<Buffer, SmKeys>();

/** The SM4 and HMAC-SM3 keys derived from a 32-byte payload key (cached per key object). */
export function smKeysOf(key: Buffer): SmKeys {
  let keys = derived.get(key);
  if (!keys) {
    keys = {
      enc: hmacSm3(key, 'xiecha sm4 encryption key').subarray(0, SM4_BLOCK),
      mac: hmacSm3(key, 'xiecha sm4 mac key'),
    };
    derived.set(key, keys);
  }
  return keys;
}

function macInput(aad: Uint8Array, iv: Uint8Array, body: Uint8Array): Buffer {
  const len = Buffer.alloc(8);
  len.writeBigUInt64BE(BigInt(aad.length));
  return Buffer.concat([len, aad, iv, body]);
}

/** SM4-CBC then HMAC-SM3: returns IV ‖ ciphertext ‖ MAC (32 bytes). */
export function sm4Seal(key: Buffer, plain: Uint8Array, aad: Uint8Array = Buffer.alloc(0)): Buffer {
  const { enc, mac } = smKeysOf(key);
  const iv = randomBytes(SM4_BLOCK);
  const body = sm4CbcEncrypt(enc, iv, plain);
  return Buffer.concat([iv, body, hmacSm3(mac, macInput(aad, iv, body))]);
}

/** Checks the MAC, then decrypts; throws on any change to the IV, the ciphertext, the MAC or the AAD. */
export function sm4Open(key: Buffer, sealed: Uint8Array, aad: Uint8Array = Buffer.alloc(0)): Buffer {
  const data = Buffer.from(sealed);
  if (data.length < SM4_BLOCK * 2 + SM3_BYTES || (data.length - SM3_BYTES) % SM4_BLOCK !== 0)
    throw new Error('SM4 ciphertext is truncated');
  const { enc, mac } = smKeysOf(key);
  const iv = data.subarray(0, SM4_BLOCK);
  const body = data.subarray(SM4_BLOCK, data.length - SM3_BYTES);
  const tag = data.subarray(data.length - SM3_BYTES);
  if (!timingSafeEqual(tag, hmacSm3(mac, macInput(aad, iv, body))))
    throw new Error('SM4 ciphertext does not match its HMAC-SM3 (changed, or another key)');
  return sm4CbcDecrypt(enc, iv, body);
}
