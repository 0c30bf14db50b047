/**
 * Personal identifiers (Art. 12): validation of resident ID numbers (GB 11643) and unified social credit
 * codes (GB 32100) (in `identifiers.ts`, shared with the web application), masking for lists, and a keyed
 * hash so an exact ID finds its cases without the plaintext being searchable in the database.
 */
import { createHmac } from 'node:crypto';
import { CRYPTO_PROFILES, type CryptoProfile, hmacSm3 } from './crypto-profile.ts';

export { isValidCreditCode, isValidResidentId } from './identifiers.ts';

export function maskIdNumber(id: string): string {
  return id.length <= 8
    ? '*'.repeat(id.length)
    : `${id.slice(0, 4)}${'*'.repeat(id.length - 8)}${id.slice(-4)}`;
}

/** 张三 → 张*, 欧阳小明 → 欧**明; company names keep their first and last two characters. */
export function maskName(name: string, kind: 'person' | 'company'): string {
  const chars = [...name];
  if (kind === 'company') {
    return chars.length <= 4
      ? `${chars[0] ?? ''}***`
      : `${chars.slice(0, 2).join('')}***${chars.slice(-2).join('')}`;
  }
  if (chars.length <= 2) return `${chars[0] ?? ''}*`;
  return `${chars[0]}${'*'.repeat(chars.length - 2)}${chars[chars.length - 1]}`;
}

export function maskSubject(subject: { kind: 'person' | 'company'; name: string; idNumber: string }): string {
  return `${maskName(subject.name, subject.kind)}（${maskIdNumber(subject.idNumber)}）`;
}

/**
 * Keyed hash of a normalised ID: equal IDs match, the table alone reveals nothing. HMAC-SHA-256, or HMAC-SM3
 * under the SM profile (CRYPTO_PROFILE=sm).
 */
export function subjectIdHash(key: Buffer, idNumber: string, profile: CryptoProfile = 'default'): string {
  const normalised = idNumber.trim().toUpperCase();
  if (profile === 'sm') return hmacSm3(key, normalised).toString('hex');
  return createHmac('sha256', key).update(normalised).digest('hex');
}

/** The ID's hash under every profile: a search finds cases written before and after a profile switch. */
export function subjectIdHashes(key: Buffer, idNumber: string): string[] {
  return CRYPTO_PROFILES.map((p) => subjectIdHash(key, idNumber, p));
}
