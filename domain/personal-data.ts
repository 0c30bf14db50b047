/**
 * Personal identifiers (Art. 12): validation of resident ID numbers (GB 11643) and unified social credit
 * codes (GB 32100), masking for lists, and a keyed hash so an exact ID finds its cases without the
 * plaintext being searchable in the database.
 */
import { createHmac } from 'node:crypto';
import { CRYPTO_PROFILES, type CryptoProfile, hmacSm3 } from './crypto-profile.ts';

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

/** 18-character resident ID number with a valid GB 11643 check character and a real birth date. */
export function isValidResidentId(id: string): boolean {
  if (!/^\d{17}[\dX]$/.test(id)) return false;
  const birth = id.slice(6, 14);
  const y = Number(birth.slice(0, 4));
  const m = Number(birth.slice(4, 6));
  const d = Number(birth.slice(6, 8));
  const date = new Date(Date.UTC(y, m - 1, d));
  if (y < 1900 || date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d)
    return false;
  const sum = ID_WEIGHTS.reduce((acc, w, i) => acc + w * Number(id[i]), 0);
  return ID_CHECK[sum % 11] === id[17];
}

const USCC_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** 18-character unified social credit code with a valid GB 32100 check character. */
export function isValidCreditCode(code: string): boolean {
  if (!/^[0-9A-HJ-NP-RTUWXY]{2}\d{6}[0-9A-HJ-NP-RTUWXY]{10}$/.test(code)) return false;
  const sum = USCC_WEIGHTS.reduce((acc, w, i) => acc + w * USCC_CHARS.indexOf(code[i] as string), 0);
  const check = USCC_CHARS[(31 - (sum % 31)) % 31];
  return check === code[17];
}

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
