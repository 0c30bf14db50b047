/**
 * Keys: from configuration in deployment; in the embedded default, generated once and kept under DATA_DIR
 * (mode 0600) so a restart can still read its tokens and its encrypted Temporal histories.
 *
 * The payload keys are a ring (current first): payloads and case content are encrypted with the current
 * key and name it (its key id), and any key of the ring decrypts, so a rotation never strands an open case.
 * The subject key (search by ID number) is separate and never rotates with them.
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AppConfig } from './config.ts';

export interface Secrets {
  jwtSecret: string;
  /** AES-256-GCM keys of the Temporal payload codec and the case content; the first encrypts. */
  payloadKeys: Buffer[];
  /** HMAC key of the subject ID hash. */
  subjectKey: Buffer;
  /** HMAC key of the audit chain (AUDIT_KEY); never stored in the database it protects. */
  auditKey: Buffer;
}

/**
 * The subject key of installations from before SUBJECT_KEY: derived from their (then only) payload key. Kept
 * as the default so their cases stay searchable.
 */
export function legacySubjectKey(payloadKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', payloadKey, Buffer.alloc(0), 'xiecha subject id hash', 32));
}

const b64 = (s: string) => Buffer.from(s, 'base64');

export function loadSecrets(config: AppConfig): Secrets {
  if (config.jwtSecret && config.payloadKeys && config.auditKey) {
    const payloadKeys = config.payloadKeys.map(b64);
    return {
      jwtSecret: config.jwtSecret,
      payloadKeys,
      // One key and no SUBJECT_KEY: the key it was derived from before rotation existed (config checks the rest).
      subjectKey: config.subjectKey ? b64(config.subjectKey) : legacySubjectKey(payloadKeys[0] as Buffer),
      auditKey: b64(config.auditKey),
    };
  }
  const stored = storedSecrets(config.dataDir);
  return {
    jwtSecret: config.jwtSecret ?? stored.jwtSecret,
    payloadKeys: (config.payloadKeys ?? stored.payloadKeys).map(b64),
    subjectKey: b64(config.subjectKey ?? stored.subjectKey),
    auditKey: b64(config.auditKey ?? stored.auditKey),
  };
}

export interface StoredSecrets {
  jwtSecret: string;
  /** Current first. */
  payloadKeys: string[];
  subjectKey: string;
  auditKey: string;
}

/**
 * secrets.json under DATA_DIR, created on first use. An older file is brought up to date and kept: its single
 * `payloadKey` becomes the ring, its subject key is materialised from it, a missing audit key is added.
 */
export function storedSecrets(dataDir: string): StoredSecrets {
  const file = path.join(dataDir, 'secrets.json');
  const old: Partial<StoredSecrets> & { payloadKey?: string } = existsSync(file)
    ? JSON.parse(readFileSync(file, 'utf8'))
    : {};
  const payloadKeys = old.payloadKeys ?? [old.payloadKey ?? randomBytes(32).toString('base64')];
  const stored: StoredSecrets = {
    jwtSecret: old.jwtSecret ?? randomBytes(48).toString('base64url'),
    payloadKeys,
    subjectKey:
      old.subjectKey ??
      legacySubjectKey(b64(payloadKeys[payloadKeys.length - 1] as string)).toString('base64'),
    auditKey: old.auditKey ?? randomBytes(32).toString('base64'),
  };
  if (JSON.stringify(old) !== JSON.stringify(stored))
    writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
  return stored;
}

/** Puts a new key first in the embedded ring (older keys keep decrypting); returns the new ring. */
export function rotateStoredPayloadKey(dataDir: string): StoredSecrets {
  const stored = storedSecrets(dataDir);
  const next = { ...stored, payloadKeys: [randomBytes(32).toString('base64'), ...stored.payloadKeys] };
  writeFileSync(path.join(dataDir, 'secrets.json'), JSON.stringify(next, null, 2), { mode: 0o600 });
  return next;
}
