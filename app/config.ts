/**
 * Configuration, read once from the environment at boot. A bad value stops the process with a message
 * naming the variable, so a misconfigured deployment fails loudly instead of half-working.
 */
import path from 'node:path';
import { type ConnectorConfig, loadConnectorConfigs } from '../activities/connectors.ts';
import {
  loadNotificationChannels,
  type NotificationChannelsConfig,
} from '../activities/notification-channels.ts';
import { CRYPTO_PROFILES, type CryptoProfile } from '../domain/crypto-profile.ts';

export interface TemporalConnectionConfig {
  /** host:port of an external Temporal frontend; absent in the embedded default (we start a dev server). */
  address?: string;
  namespace: string;
  taskQueue: string;
  tls?: { serverName?: string; clientCertPath?: string; clientKeyPath?: string; serverCaPath?: string };
  apiKey?: string;
  /** Fixed gRPC port for the embedded dev server (default: a free port). */
  devPort?: number;
}

export interface AppConfig {
  mode: 'embedded' | 'deployment';
  host: string;
  port: number;
  dataDir: string;
  logLevel: string;
  /** Pretty logs for a human at a terminal, JSON everywhere else. */
  prettyLogs: boolean;
  databaseUrl?: string;
  temporal: TemporalConnectionConfig;
  /** HMAC secret for staff JWTs; generated and kept under DATA_DIR in the embedded default. */
  jwtSecret?: string;
  /**
   * base64 AES-256 keys of the Temporal payload codec and the case content at rest, current first
   * (PAYLOAD_KEYS, or PAYLOAD_KEY for one); older keys only decrypt. Generated and kept under DATA_DIR in
   * the embedded default.
   */
  payloadKeys?: string[];
  /** base64 HMAC key of the subject ID hash (search by ID number); must outlive payload key rotations. */
  subjectKey?: string;
  /** base64 HMAC key (32 bytes) of the audit chain; generated and kept under DATA_DIR in the embedded default. */
  auditKey?: string;
  /** Append-only file where the API anchors the audit chain's newest row (outside the database). */
  auditAnchorFile: string;
  /** How often the API anchors the audit chain (seconds). */
  auditAnchorSeconds: number;
  /**
   * CRYPTO_PROFILE: `default` (AES-256-GCM, HMAC-SHA-256) or `sm` (SM4, HMAC-SM3; 密评). Decides what new data
   * is written with; data written under either profile stays readable.
   */
  cryptoProfile: CryptoProfile;
  /**
   * AUDIT_RETENTION_DAYS: audit rows older than this many days are purged (a checkpoint keeps the chain
   * verifiable); at least 183 (six months, 网络安全法 Art. 21), 183 by default.
   */
  auditRetentionDays: number;
  /** AUDIT_PURGE_HOURS: how often the worker runs the purge (hours; 0 = never, only `npm run audit:purge`). */
  auditPurgeHours: number;
  /** CATALOG_DECISION_DAYS: working days the office has to decide a list-adjustment request (default 5). */
  catalogDecisionDays: number;
  /** Demo users and demo data are seeded only in the embedded default (or when explicitly asked). */
  seedDemo: boolean;
  /**
   * Data sources for automatic answers, from the JSON list in CONNECTORS_FILE (activities/connectors.ts). They
   * hold secrets: they go to the worker's registry only, never into logs, rows or answers.
   */
  connectors: ConnectorConfig[];
  /**
   * The embedded demo's 户籍 data service (app/demo-data-service.ts): DEMO_DATA_SERVICE (default on where the
   * demo is seeded in embedded mode), on DEMO_DATA_PORT (default 0: a free port) of 127.0.0.1.
   */
  demoDataService: { enabled: boolean; port: number };
  /**
   * Demonstrations and browser tests only (embedded mode): every SLA lasts this many real seconds, so an
   * escalation can be watched without waiting half an hour. Refused in deployment.
   */
  devSlaSeconds?: number;
  /** Where notifications are also posted as JSON (messaging gateway, OA, e-mail relay); in-app always. */
  notifyWebhookUrl?: string;
  /** API requests per minute and client address (default 600). */
  rateLimitPerMinute?: number;
  /** Reverse proxies whose X-Forwarded-For the API believes (addresses or CIDRs); none by default. */
  trustProxy?: string[];
  /** PostgreSQL connections per process (DB_POOL_SIZE, default 10); the worker's slots follow it. */
  dbPoolSize: number;
  /**
   * Cases the worker keeps in memory between their workflow tasks (WORKER_CACHED_CASES, default 500).
   * A cached case answers its next action without replaying its history; an evicted one replays it. Each
   * costs about a third of a MiB (bench/memory.ts: 272 MiB with none, 613 MiB with 1,000), so this bounds the
   * worker's RSS however many cases are open; 500 keeps it under 512 MiB.
   */
  workerCachedCases: number;
  /** The operators' metrics (api/services/metrics.ts); never public. */
  metrics: MetricsConfig;
  /**
   * 钉钉 / 企业微信 group robots and the SMS gateway (NOTIFY_DINGTALK_*, NOTIFY_WECOM_*, NOTIFY_SMS_*; see
   * activities/notification-channels.ts). Their tokens and secrets go to the worker's sender only.
   */
  notificationChannels: NotificationChannelsConfig;
  /**
   * 告知承诺 (seed 004): COMMITMENT_CHECK_WORKING_DAYS, the working days after a commitment is recorded when its
   * check (a verification case) starts (default 10; 0: at once, an online check); COMMITMENT_BAR_DAYS, how long a
   * false commitment bars the subject from 告知承诺 (days, default 365).
   */
  commitments: { checkWorkingDays: number; barDays: number };
}

export interface MetricsConfig {
  /**
   * METRICS_PORT: `/metrics` on a listener of its own (every process that has one: API, worker, or both
   * in the embedded system), bound to `host`; off when absent.
   */
  port?: number;
  /** METRICS_HOST: that listener's address, loopback unless set. */
  host: string;
  /**
   * METRICS_TOKEN: the bearer token `/metrics` asks for wherever it is served. Without it, the API's own
   * port refuses `/metrics` (403) and only the METRICS_PORT listener answers.
   */
  token?: string;
  /** TEMPORAL_METRICS_ADDRESS: host:port where the worker's Temporal SDK exporter serves its metrics. */
  temporalAddress?: string;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`Invalid configuration: ${variable} ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function wholeNumberFrom(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got "${raw}"`);
  return n;
}

function portFrom(env: Env, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new ConfigError(name, `must be a port number between 0 and 65535, got "${raw}"`);
  }
  return n;
}

function boolFrom(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

function nonEmpty(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

function checkAddress(name: string, value: string): string {
  if (!/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/.test(value)) {
    throw new ConfigError(name, `must be host:port (e.g. temporal:7233), got "${value}"`);
  }
  return value;
}

function checkDatabaseUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(name, 'must be a postgres:// URL');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(name, `must use the postgres:// scheme, got "${url.protocol}"`);
  }
  return value;
}

function checkKey(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (Buffer.from(value, 'base64').length !== 32) {
    throw new ConfigError(name, 'must be 32 bytes encoded in base64 (e.g. `openssl rand -base64 32`)');
  }
  return value;
}

/** PAYLOAD_KEYS (comma-separated, current first) or PAYLOAD_KEY (one key); not both. */
function payloadKeysFrom(env: Env): string[] | undefined {
  const one = nonEmpty(env, 'PAYLOAD_KEY');
  const many = nonEmpty(env, 'PAYLOAD_KEYS');
  if (one && many) throw new ConfigError('PAYLOAD_KEYS', 'set PAYLOAD_KEYS or PAYLOAD_KEY, not both');
  if (one) return [checkKey('PAYLOAD_KEY', one) as string];
  if (!many) return undefined;
  const keys = many.split(',').map((k) => k.trim());
  if (keys.some((k) => !k)) throw new ConfigError('PAYLOAD_KEYS', 'has an empty entry');
  for (const k of keys) checkKey('PAYLOAD_KEYS', k);
  if (new Set(keys).size !== keys.length) throw new ConfigError('PAYLOAD_KEYS', 'names a key twice');
  return keys;
}

export function loadConfig(env: Env = process.env): AppConfig {
  const address = nonEmpty(env, 'TEMPORAL_ADDRESS');
  const databaseUrl = nonEmpty(env, 'DATABASE_URL');
  const mode = address || databaseUrl ? 'deployment' : 'embedded';

  const tlsEnabled = boolFrom(env, 'TEMPORAL_TLS', false);
  const tlsCert = nonEmpty(env, 'TEMPORAL_TLS_CERT_PATH');
  const tlsKey = nonEmpty(env, 'TEMPORAL_TLS_KEY_PATH');
  if (Boolean(tlsCert) !== Boolean(tlsKey)) {
    throw new ConfigError(
      tlsCert ? 'TEMPORAL_TLS_KEY_PATH' : 'TEMPORAL_TLS_CERT_PATH',
      'must be set together with its pair',
    );
  }
  const apiKey = nonEmpty(env, 'TEMPORAL_API_KEY');

  const jwtSecret = nonEmpty(env, 'JWT_SECRET');
  if (jwtSecret !== undefined && jwtSecret.length < 32) {
    throw new ConfigError('JWT_SECRET', 'must be at least 32 characters');
  }
  const payloadKeys = payloadKeysFrom(env);
  const subjectKey = checkKey('SUBJECT_KEY', nonEmpty(env, 'SUBJECT_KEY'));
  if (payloadKeys && payloadKeys.length > 1 && !subjectKey)
    throw new ConfigError(
      'SUBJECT_KEY',
      'is required once PAYLOAD_KEYS holds more than one key (npm run keys:rotate prints the value to keep)',
    );
  const auditKey = checkKey('AUDIT_KEY', nonEmpty(env, 'AUDIT_KEY'));
  if (mode === 'deployment') {
    if (!jwtSecret)
      throw new ConfigError('JWT_SECRET', 'is required when TEMPORAL_ADDRESS or DATABASE_URL is set');
    if (!payloadKeys)
      throw new ConfigError('PAYLOAD_KEY', 'is required when TEMPORAL_ADDRESS or DATABASE_URL is set');
    if (!auditKey)
      throw new ConfigError('AUDIT_KEY', 'is required when TEMPORAL_ADDRESS or DATABASE_URL is set');
  }

  const logLevel = nonEmpty(env, 'LOG_LEVEL') ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError(
      'LOG_LEVEL',
      `must be one of fatal, error, warn, info, debug, trace, silent; got "${logLevel}"`,
    );
  }

  const devSla = nonEmpty(env, 'DEV_SLA_SECONDS');
  let devSlaSeconds: number | undefined;
  if (devSla !== undefined) {
    devSlaSeconds = Number(devSla);
    if (!Number.isInteger(devSlaSeconds) || devSlaSeconds < 5)
      throw new ConfigError('DEV_SLA_SECONDS', `must be a whole number of seconds >= 5, got "${devSla}"`);
    // The fault tests of a real cluster (scripts/test-cluster.ts) need timers that fire within minutes on
    // separate processes: they opt in explicitly, so a deployment cannot get demo deadlines by accident.
    if (mode === 'deployment' && !boolFrom(env, 'DEV_SLA_IN_DEPLOYMENT', false))
      throw new ConfigError(
        'DEV_SLA_SECONDS',
        'is for demonstrations of the embedded system only; unset it in deployment',
      );
  }

  const webhook = nonEmpty(env, 'NOTIFY_WEBHOOK_URL');
  if (webhook !== undefined && !/^https?:\/\/[^\s]+$/.test(webhook)) {
    throw new ConfigError('NOTIFY_WEBHOOK_URL', `must be an http(s) URL, got "${webhook}"`);
  }

  const rateRaw = nonEmpty(env, 'RATE_LIMIT_PER_MINUTE');
  const rateLimitPerMinute = rateRaw === undefined ? undefined : Number(rateRaw);
  if (rateLimitPerMinute !== undefined && (!Number.isInteger(rateLimitPerMinute) || rateLimitPerMinute < 1)) {
    throw new ConfigError('RATE_LIMIT_PER_MINUTE', `must be a whole number >= 1, got "${rateRaw}"`);
  }
  const anchorRaw = nonEmpty(env, 'AUDIT_ANCHOR_SECONDS');
  const auditAnchorSeconds = anchorRaw === undefined ? 60 : Number(anchorRaw);
  if (!Number.isInteger(auditAnchorSeconds) || auditAnchorSeconds < 1 || auditAnchorSeconds > 3600) {
    throw new ConfigError(
      'AUDIT_ANCHOR_SECONDS',
      `must be a whole number from 1 to 3600, got "${anchorRaw}"`,
    );
  }
  const profileRaw = nonEmpty(env, 'CRYPTO_PROFILE') ?? 'default';
  if (!CRYPTO_PROFILES.includes(profileRaw as CryptoProfile))
    throw new ConfigError(
      'CRYPTO_PROFILE',
      `must be default (AES-256-GCM, HMAC-SHA-256) or sm (SM4, HMAC-SM3), got "${profileRaw}"`,
    );
  const retentionRaw = nonEmpty(env, 'AUDIT_RETENTION_DAYS');
  if (retentionRaw !== undefined && Number.isInteger(Number(retentionRaw)) && Number(retentionRaw) < 183)
    throw new ConfigError(
      'AUDIT_RETENTION_DAYS',
      `must be at least 183 days: audit logs are kept for no less than six months (网络安全法 Art. 21), got "${retentionRaw}"`,
    );
  const auditRetentionDays = wholeNumberFrom(env, 'AUDIT_RETENTION_DAYS', 183, 183, 36_500);
  const trustProxy = nonEmpty(env, 'TRUST_PROXY')
    ?.split(',')
    .map((p) => p.trim())
    .filter(Boolean);

  const dataDir = path.resolve(nonEmpty(env, 'DATA_DIR') ?? './data');
  const port = portFrom(env, 'PORT') ?? 3000;
  return {
    metrics: metricsFrom(env, port),
    dbPoolSize: wholeNumberFrom(env, 'DB_POOL_SIZE', 10, 1, 500),
    workerCachedCases: wholeNumberFrom(env, 'WORKER_CACHED_CASES', 500, 2, 100_000),
    mode,
    rateLimitPerMinute,
    trustProxy,
    devSlaSeconds,
    notifyWebhookUrl: webhook,
    host: nonEmpty(env, 'HOST') ?? (mode === 'embedded' ? '127.0.0.1' : '0.0.0.0'),
    port,
    dataDir,
    logLevel,
    prettyLogs: boolFrom(env, 'LOG_PRETTY', Boolean(process.stdout.isTTY)),
    databaseUrl: databaseUrl ? checkDatabaseUrl('DATABASE_URL', databaseUrl) : undefined,
    temporal: {
      address: address ? checkAddress('TEMPORAL_ADDRESS', address) : undefined,
      namespace: nonEmpty(env, 'TEMPORAL_NAMESPACE') ?? 'default',
      taskQueue: nonEmpty(env, 'TEMPORAL_TASK_QUEUE') ?? 'verification',
      tls:
        tlsEnabled || tlsCert
          ? {
              serverName: nonEmpty(env, 'TEMPORAL_TLS_SERVER_NAME'),
              clientCertPath: tlsCert,
              clientKeyPath: tlsKey,
              serverCaPath: nonEmpty(env, 'TEMPORAL_TLS_CA_PATH'),
            }
          : undefined,
      apiKey,
      devPort: portFrom(env, 'TEMPORAL_DEV_PORT'),
    },
    jwtSecret,
    payloadKeys,
    subjectKey,
    auditKey,
    auditAnchorFile: path.resolve(
      nonEmpty(env, 'AUDIT_ANCHOR_FILE') ?? path.join(dataDir, 'audit-anchors.log'),
    ),
    auditAnchorSeconds,
    cryptoProfile: profileRaw as CryptoProfile,
    auditRetentionDays,
    auditPurgeHours: wholeNumberFrom(env, 'AUDIT_PURGE_HOURS', 24, 0, 24 * 31),
    catalogDecisionDays: wholeNumberFrom(env, 'CATALOG_DECISION_DAYS', 5, 1, 60),
    seedDemo: boolFrom(env, 'SEED_DEMO', mode === 'embedded'),
    connectors: connectorsFrom(env),
    demoDataService: {
      enabled: boolFrom(env, 'DEMO_DATA_SERVICE', mode === 'embedded' && boolFrom(env, 'SEED_DEMO', true)),
      port: portFrom(env, 'DEMO_DATA_PORT') ?? 0,
    },
    notificationChannels: notificationChannelsFrom(env),
    commitments: {
      checkWorkingDays: wholeNumberFrom(env, 'COMMITMENT_CHECK_WORKING_DAYS', 10, 0, 250),
      barDays: wholeNumberFrom(env, 'COMMITMENT_BAR_DAYS', 365, 1, 3650),
    },
  };
}

function notificationChannelsFrom(env: Env): NotificationChannelsConfig {
  try {
    return loadNotificationChannels(env);
  } catch (err) {
    const [, variable = 'NOTIFY', rest = ''] = /^(\w+): (.*)$/s.exec((err as Error).message) ?? [];
    throw new ConfigError(variable, rest || (err as Error).message);
  }
}

function connectorsFrom(env: Env): ConnectorConfig[] {
  try {
    return loadConnectorConfigs(env as NodeJS.ProcessEnv);
  } catch (err) {
    throw new ConfigError('CONNECTORS_FILE', (err as Error).message.replace(/^CONNECTORS_FILE: /, ''));
  }
}

function metricsFrom(env: Env, apiPort: number): MetricsConfig {
  const port = nonEmpty(env, 'METRICS_PORT') === undefined ? undefined : portFrom(env, 'METRICS_PORT');
  if (port === 0) throw new ConfigError('METRICS_PORT', 'must be a port number between 1 and 65535, got "0"');
  if (port !== undefined && port === apiPort)
    throw new ConfigError('METRICS_PORT', `must differ from PORT (${apiPort}): it is a listener of its own`);
  const token = nonEmpty(env, 'METRICS_TOKEN');
  if (token !== undefined && (token.length < 16 || /\s/.test(token)))
    throw new ConfigError('METRICS_TOKEN', 'must be at least 16 characters without spaces');
  const temporalAddress = nonEmpty(env, 'TEMPORAL_METRICS_ADDRESS');
  return {
    port,
    host: nonEmpty(env, 'METRICS_HOST') ?? '127.0.0.1',
    token,
    temporalAddress: temporalAddress ? checkAddress('TEMPORAL_METRICS_ADDRESS', temporalAddress) : undefined,
  };
}

/** `npm run api` / `npm run worker`: the external services a separate process needs, or a clear refusal. */
export function requireExternalServices(
  config: AppConfig,
  command: string,
): { temporalAddress: string; databaseUrl: string } {
  if (!config.temporal.address) {
    throw new ConfigError(
      'TEMPORAL_ADDRESS',
      `is required for \`${command}\` (use \`npm start\` for the embedded system)`,
    );
  }
  if (!config.databaseUrl) {
    throw new ConfigError(
      'DATABASE_URL',
      `is required for \`${command}\` (PGlite cannot be shared between processes)`,
    );
  }
  return { temporalAddress: config.temporal.address, databaseUrl: config.databaseUrl };
}
