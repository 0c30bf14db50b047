/**
 * `npm run keys:rotate`: a new payload key becomes current; the older ones stay in the ring and keep
 * decrypting every open case's history and every sealed case content. The subject key (search by ID number)
 * does not change.
 *
 *   npm run keys:rotate                  the embedded DATA_DIR (default ./data): secrets.json gets the new key
 *                                        first; the next `npm start` uses it (the running one keeps its ring)
 *   PAYLOAD_KEY[S]=… npm run keys:rotate  a deployment: prints the new PAYLOAD_KEYS (and SUBJECT_KEY to keep)
 *                                        to set in every api and worker, then restart them one by one
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { keyIdOf } from '../domain/content-cipher.ts';
import { ConfigError, loadConfig } from './config.ts';
import { legacySubjectKey, rotateStoredPayloadKey } from './secrets.ts';

export function rotateKeys(env: Record<string, string | undefined>): string {
  const config = loadConfig(env);
  if (config.payloadKeys) {
    const next = [randomBytes(32).toString('base64'), ...config.payloadKeys];
    const subject =
      config.subjectKey ??
      legacySubjectKey(Buffer.from(config.payloadKeys[0] as string, 'base64')).toString('base64');
    return [
      `新的密钥 ${keyIdOf(Buffer.from(next[0] as string, 'base64'))} 已生成（旧密钥保留用于解密）。请在每个 api 和 worker 中设置：`,
      `PAYLOAD_KEYS=${next.join(',')}`,
      `SUBJECT_KEY=${subject}`,
      '（删除 PAYLOAD_KEY；逐个重启进程。旧密钥须保留，直到用它加密的协查全部办结、历史不再重放。）',
    ].join('\n');
  }
  const stored = rotateStoredPayloadKey(config.dataDir);
  const ids = stored.payloadKeys.map((k) => keyIdOf(Buffer.from(k, 'base64')));
  return `${path.join(config.dataDir, 'secrets.json')}：当前密钥 ${ids[0]}，保留用于解密 ${ids.slice(1).join('、')}。重新启动 npm start 后生效。`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    console.log(rotateKeys(process.env));
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(2);
  }
}
