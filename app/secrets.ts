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
}

function derive(payloadKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', payloadKey, Buffer.alloc(0), 'xiecha subject id hash', 32));
}

export function loadSecrets(config: AppConfig): Secrets {
  if (config.jwtSecret && config.payloadKey) {
    const payloadKey = Buffer.from(config.payloadKey, 'base64');
    return { jwtSecret: config.jwtSecret, payloadKey, subjectKey: derive(payloadKey) };
  }
  const file = path.join(config.dataDir, 'secrets.json');
  let stored: { jwtSecret: string; payloadKey: string };
  if (existsSync(file)) {
    stored = JSON.parse(readFileSync(file, 'utf8'));
  } else {
    stored = {
      jwtSecret: randomBytes(48).toString('base64url'),
      payloadKey: randomBytes(32).toString('base64'),
    };
    writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
  }
  const payloadKey = Buffer.from(config.payloadKey ?? stored.payloadKey, 'base64');
  return { jwtSecret: config.jwtSecret ?? stored.jwtSecret, payloadKey, subjectKey: derive(payloadKey) };
}
