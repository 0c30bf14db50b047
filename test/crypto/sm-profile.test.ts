/**
 * The SM profile's primitives against the standards' own vectors and against an independent implementation:
 * SM3 (GB/T 32905-2016, Appendix A), SM4 (GB/T 32907-2016, Appendix A), HMAC-SM3 (RFC 2104 over SM3, computed
 * here from the construction and by Node's OpenSSL when it has SM3). Then what is built on them: the sealed
 * envelope (SM4-CBC then HMAC-SM3), the payload codec, the content cipher, the audit MAC and the subject ID
 * hash, each still opening what the other profile wrote.
 */
import { createCipheriv, createHmac, getCiphers, getHashes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { auditHash, KEYED_MAC, macVersionOf, SM_MAC } from '../../api/services/audit.ts';
import { ConfigError, loadConfig } from '../../app/config.ts';
import { PayloadCipherCodec } from '../../app/payload-codec.ts';
import { createContentCipher } from '../../domain/content-cipher.ts';
import {
  hmacSm3,
  SM4_CIPHER_ID,
  sm3Digest,
  sm4CbcDecrypt,
  sm4CbcEncrypt,
  sm4EncryptBlock,
  sm4Open,
  sm4Seal,
} from '../../domain/crypto-profile.ts';
import { subjectIdHash, subjectIdHashes } from '../../domain/personal-data.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('SM3 (GB/T 32905-2016)', () => {
  it('hashes the standard\'s example 1, "abc"', () => {
    expect(sm3Digest('abc').toString('hex')).toBe(
      '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0',
    );
  });

  it('hashes the standard\'s example 2, "abcd" repeated 16 times (512 bits, two blocks after padding)', () => {
    expect(sm3Digest('abcd'.repeat(16)).toString('hex')).toBe(
      'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732',
    );
  });

  it('hashes bytes and UTF-8 text alike', () => {
    expect(sm3Digest(Buffer.from('协查核验')).equals(sm3Digest('协查核验'))).toBe(true);
  });
});

describe('SM4 (GB/T 32907-2016)', () => {
  const key = hex('0123456789abcdeffedcba9876543210');

  it("encrypts the standard's example 1 block", () => {
    expect(sm4EncryptBlock(key, key).toString('hex')).toBe('681edf34d206965e86b3e94f536e4246');
  });

  it("encrypts the standard's example 2: the same block 1,000,000 times", () => {
    let block: Buffer = key;
    for (let i = 0; i < 1_000_000; i++) block = sm4EncryptBlock(key, block);
    expect(block.toString('hex')).toBe('595298c7c6fd271f0402f804c33d3f66');
  }, 120_000);

  it('agrees with an independent implementation (OpenSSL) in CBC mode with PKCS#7 padding', () => {
    // Node's bundled OpenSSL 3 carries SM4 and SM3: an implementation independent of sm-crypto.
    expect(getCiphers()).toContain('sm4-cbc');
    const iv = hex('000102030405060708090a0b0c0d0e0f');
    const plain = Buffer.from('淄博市 无证明城市 协查核验 — 37 bytes and more');
    const openssl = createCipheriv('sm4-cbc', key, iv);
    const expected = Buffer.concat([openssl.update(plain), openssl.final()]);
    expect(sm4CbcEncrypt(key, iv, plain).equals(expected)).toBe(true);
    expect(sm4CbcDecrypt(key, iv, expected).equals(plain)).toBe(true);
  });
});

/** HMAC (RFC 2104) written out over SM3: H(K ⊕ opad ‖ H(K ⊕ ipad ‖ m)), 64-byte blocks. */
function rfc2104Sm3(key: Buffer, message: Buffer): Buffer {
  const block = 64;
  const k = Buffer.alloc(block);
  (key.length > block ? sm3Digest(key) : key).copy(k);
  const pad = (byte: number) => Buffer.from(k.map((b) => b ^ byte));
  const inner = sm3Digest(Buffer.concat([pad(0x36), message]));
  return sm3Digest(Buffer.concat([pad(0x5c), inner]));
}

describe('HMAC-SM3 (RFC 2104 over SM3)', () => {
  const cases: [string, Buffer, Buffer][] = [
    ['a 32-byte key', Buffer.alloc(32, 5), Buffer.from('abc')],
    ['a short key', Buffer.from('key'), Buffer.from('The quick brown fox jumps over the lazy dog')],
    ['a key longer than the block (hashed first)', Buffer.alloc(100, 0xaa), Buffer.alloc(50, 0xdd)],
    ['an empty message', Buffer.alloc(32, 1), Buffer.alloc(0)],
  ];

  it.each(cases)('matches the construction written out, with %s', (_, key, message) => {
    expect(hmacSm3(key, message).toString('hex')).toBe(rfc2104Sm3(key, message).toString('hex'));
  });

  it.each(cases)('matches OpenSSL, with %s', (_, key, message) => {
    expect(getHashes()).toContain('sm3');
    expect(hmacSm3(key, message).toString('hex')).toBe(createHmac('sm3', key).update(message).digest('hex'));
  });

  it('concatenates its parts', () => {
    const key = Buffer.alloc(32, 9);
    expect(hmacSm3(key, 'ab', Buffer.from('c')).equals(hmacSm3(key, 'abc'))).toBe(true);
  });
});

describe('the SM4 envelope (SM4-CBC, then HMAC-SM3)', () => {
  const key = Buffer.alloc(32, 3);

  it('opens what it sealed, with the same associated data only', () => {
    const sealed = sm4Seal(key, Buffer.from('张三 11010519491231002X'), Buffer.from('case-1'));
    expect(sm4Open(key, sealed, Buffer.from('case-1')).toString()).toBe('张三 11010519491231002X');
    expect(() => sm4Open(key, sealed, Buffer.from('case-2'))).toThrow(/HMAC-SM3/);
    expect(() => sm4Open(Buffer.alloc(32, 4), sealed, Buffer.from('case-1'))).toThrow(/HMAC-SM3/);
  });

  it('refuses any changed byte before decrypting', () => {
    const sealed = sm4Seal(key, Buffer.from('x'.repeat(40)));
    for (const at of [0, 20, sealed.length - 1]) {
      const changed = Buffer.from(sealed);
      changed[at] = (changed[at] ?? 0) ^ 1;
      expect(() => sm4Open(key, changed), `byte ${at}`).toThrow(/HMAC-SM3/);
    }
    expect(() => sm4Open(key, sealed.subarray(0, 40))).toThrow(/truncated|HMAC/);
  });

  it('uses a fresh IV each time', () => {
    expect(sm4Seal(key, Buffer.from('same')).equals(sm4Seal(key, Buffer.from('same')))).toBe(false);
  });
});

describe('the profiles over the same key ring', () => {
  const ring = [Buffer.alloc(32, 21), Buffer.alloc(32, 12)];

  it('payloads: SM4 under the SM profile, named in the metadata; either codec decodes both', async () => {
    const sm = new PayloadCipherCodec(ring, { profile: 'sm' });
    const aes = new PayloadCipherCodec(ring);
    const payload = {
      metadata: { encoding: Buffer.from('json/plain') },
      data: Buffer.from('{"name":"张三"}'),
    };
    const [bySm] = await sm.encode([payload]);
    const [byAes] = await aes.encode([payload]);
    expect(Buffer.from(bySm?.metadata?.['encryption-cipher'] ?? []).toString()).toBe(SM4_CIPHER_ID);
    expect(byAes?.metadata?.['encryption-cipher']).toBeUndefined();
    expect(Buffer.from(bySm?.data ?? []).toString()).not.toContain('张三');
    for (const codec of [sm, aes])
      for (const encoded of [bySm, byAes]) {
        const [back] = await codec.decode([encoded as NonNullable<typeof encoded>]);
        expect(Buffer.from(back?.data ?? []).toString()).toBe('{"name":"张三"}');
      }
    // An older key of the ring still decodes, and a payload whose MAC fails is refused.
    const [old] = await new PayloadCipherCodec([ring[1] as Buffer], { profile: 'sm' }).encode([payload]);
    expect((await sm.decode([old as NonNullable<typeof old>]))[0]?.data).toEqual(payload.data);
    const forged = { ...bySm, data: Buffer.from(bySm?.data ?? []).fill(0, 20, 21) };
    await expect(aes.decode([forged])).rejects.toThrow();
  });

  it('content at rest: the envelope names SM4; both profiles open both envelopes', () => {
    const sm = createContentCipher(ring, { profile: 'sm' });
    const aes = createContentCipher(ring);
    const content = { subject: { name: '张三', idNumber: '11010519491231002X' } };
    const sealedSm = sm.seal('case-1', content);
    const sealedAes = aes.seal('case-1', content);
    expect(sealedSm).toMatchObject({ alg: SM4_CIPHER_ID, kid: sm.keyId });
    expect(sealedAes).not.toHaveProperty('alg');
    for (const c of [sm, aes])
      for (const s of [sealedSm, sealedAes]) expect(c.open('case-1', s)).toEqual(content);
    expect(() => sm.open('case-2', sealedSm)).toThrow();
    expect(() => sm.open('case-1', { ...sealedSm, alg: 'rot13' })).toThrow(/unknown cipher/);
  });

  it('audit MAC: version 3 is HMAC-SM3 over the same bytes as version 2', () => {
    const key = Buffer.alloc(32, 5);
    const row = {
      at: new Date('2026-12-01T02:00:00.000Z'),
      action: 'auth.login',
      outcome: 'allowed' as const,
    };
    expect(macVersionOf('sm')).toBe(SM_MAC);
    expect(macVersionOf('default')).toBe(KEYED_MAC);
    const v2 = auditHash('0'.repeat(64), row, { version: KEYED_MAC, key });
    const v3 = auditHash('0'.repeat(64), row, { version: SM_MAC, key });
    const body =
      '{"action":"auth.login","actorId":null,"actorUnit":null,"at":"2026-12-01T02:00:00.000Z","caseId":null,' +
      '"detail":{},"outcome":"allowed","purpose":null,"sourceIp":null}';
    const message = Buffer.from(`${'0'.repeat(64)}\n${body}`);
    expect(v2).toBe(createHmac('sha256', key).update(message).digest('hex'));
    expect(v3).toBe(rfc2104Sm3(key, message).toString('hex'));
    expect(() => auditHash('0'.repeat(64), row, { version: 4, key })).toThrow(/mac_version 4/);
  });

  it('subject ID hash: HMAC-SM3 under the SM profile; a search looks for both', () => {
    const key = Buffer.alloc(32, 9);
    const sm = subjectIdHash(key, ' 11010519491231002x ', 'sm');
    expect(sm).toBe(rfc2104Sm3(key, Buffer.from('11010519491231002X')).toString('hex'));
    expect(subjectIdHashes(key, '11010519491231002X')).toEqual([
      subjectIdHash(key, '11010519491231002X'),
      sm,
    ]);
  });
});

describe('configuration', () => {
  it('CRYPTO_PROFILE is default unless set to sm; anything else is refused naming the variable', () => {
    expect(loadConfig({}).cryptoProfile).toBe('default');
    expect(loadConfig({ CRYPTO_PROFILE: 'sm' }).cryptoProfile).toBe('sm');
    expect(() => loadConfig({ CRYPTO_PROFILE: 'sm2' })).toThrow(ConfigError);
    expect(() => loadConfig({ CRYPTO_PROFILE: 'sm2' })).toThrow(/CRYPTO_PROFILE must be default .* or sm/);
  });
});
