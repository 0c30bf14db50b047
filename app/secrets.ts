/**
 * Keys: from configuration in deployment; in the embedded default, generated once and kept under DATA_DIR
 * (mode 0600) so a restart can still read its tokens and its encrypted Temporal histories.
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AppConfig } from './config.ts';

export interface Secrets {
  jwtSecret: string;
  /** AES-256-GCM key of the Temporal payload codec. */
  payloadKey: Buffer;
  /** HMAC key of the subject ID hash; derived from the payload key so there is one secret to keep. */
  subjectKey: Buffer;
  /** HMAC key of the audit chain (AUDIT_KEY); never stored in the database it protects. */
  auditKey: Buffer;
}

function derive(payloadKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', payloadKey, Buffer.alloc(0), 'xiecha subject id hash', 32));
}

export function loadSecrets(config: AppConfig): Secrets {
  if (config.jwtSecret && config.payloadKey && config.auditKey) {
    const payloadKey = Buffer.from(config.payloadKey, 'base64');
    return {
      jwtSecret: config.jwtSecret,
      payloadKey,
      subjectKey: derive(payloadKey),
      auditKey: Buffer.from(config.auditKey, 'base64'),
    };
  }
  const stored = storedSecrets(config.dataDir);
  const payloadKey = Buffer.from(config.payloadKey ?? stored.payloadKey, 'base64');
  return {
    jwtSecret: config.jwtSecret ?? stored.jwtSecret,
    payloadKey,
    subjectKey: derive(payloadKey),
    auditKey: Buffer.from(config.auditKey ?? stored.auditKey, 'base64'),
  };
}

interface StoredSecrets {
  jwtSecret: string;
  payloadKey: string;
  auditKey: string;
}

/** secrets.json under DATA_DIR, created on first use; a key it lacks (an older file) is added to it. */
export function storedSecrets(dataDir: string): StoredSecrets {
  const file = path.join(dataDir, 'secrets.json');
  const old: Partial<StoredSecrets> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const stored: StoredSecrets = {
    jwtSecret: old.jwtSecret ?? randomBytes(48).toString('base64url'),
    payloadKey: old.payloadKey ?? randomBytes(32).toString('base64'),
    auditKey: old.auditKey ?? randomBytes(32).toString('base64'),
  };
  if (old.jwtSecret !== stored.jwtSecret || old.payloadKey !== stored.payloadKey || !old.auditKey)
    writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
  return stored;
}
