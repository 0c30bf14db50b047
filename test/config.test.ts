import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, requireExternalServices } from '../app/config.ts';
import { temporalTelemetry } from '../app/logger.ts';
import { legacySubjectKey, loadSecrets, rotateStoredPayloadKey } from '../app/secrets.ts';
import { workerTuning } from '../app/system.ts';

const KEY = Buffer.alloc(32, 1).toString('base64');
const deployment = {
  TEMPORAL_ADDRESS: 'temporal:7233',
  DATABASE_URL: 'postgres://u:p@db:5432/x',
  JWT_SECRET: 'x'.repeat(32),
  PAYLOAD_KEY: KEY,
  AUDIT_KEY: KEY,
};

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('defaults to the embedded system with nothing set', () => {
    const c = loadConfig({});
    expect(c.mode).toBe('embedded');
    expect(c.port).toBe(3000);
    expect(c.dataDir.endsWith('/data')).toBe(true);
    expect(c.temporal.address).toBeUndefined();
    expect(c.seedDemo).toBe(true);
  });

  it('sizes the database pool and the worker from DB_POOL_SIZE and WORKER_CACHED_CASES, naming a bad value', () => {
    expect(loadConfig({})).toMatchObject({ dbPoolSize: 10, workerCachedCases: 500 });
    const c = loadConfig({ ...deployment, DB_POOL_SIZE: '25', WORKER_CACHED_CASES: '300' });
    expect(c).toMatchObject({ dbPoolSize: 25, workerCachedCases: 300 });
    expect(workerTuning({ connections: c.dbPoolSize, cachedCases: c.workerCachedCases })).toEqual({
      maxConcurrentActivityTaskExecutions: 50,
      maxConcurrentLocalActivityExecutions: 50,
      maxCachedWorkflows: 300,
    });
    // PGlite is one connection: still a few slots for the steps that need no database.
    expect(workerTuning({ connections: 1, cachedCases: 1000 }).maxConcurrentActivityTaskExecutions).toBe(4);
    for (const [variable, value] of [
      ['DB_POOL_SIZE', '0'],
      ['DB_POOL_SIZE', 'ten'],
      ['WORKER_CACHED_CASES', '1'],
      ['WORKER_CACHED_CASES', '2.5'],
    ] as const) {
      const err = errorOf({ [variable]: value });
      expect(err.variable).toBe(variable);
      expect(err.message).toContain(`"${value}"`);
    }
  });

  it('keeps /metrics off the public port: METRICS_PORT on loopback, METRICS_TOKEN, the SDK exporter address', () => {
    expect(loadConfig({}).metrics).toEqual({
      port: undefined,
      host: '127.0.0.1',
      token: undefined,
      temporalAddress: undefined,
    });
    const token = 'm'.repeat(24);
    const c = loadConfig({
      ...deployment,
      METRICS_PORT: '9100',
      METRICS_TOKEN: token,
      TEMPORAL_METRICS_ADDRESS: '127.0.0.1:9464',
    });
    expect(c.metrics).toEqual({ port: 9100, host: '127.0.0.1', token, temporalAddress: '127.0.0.1:9464' });
    expect(loadConfig({ METRICS_PORT: '9100', METRICS_HOST: '10.0.0.5' }).metrics.host).toBe('10.0.0.5');
    expect(temporalTelemetry('127.0.0.1:9464')).toEqual({
      metrics: {
        metricPrefix: 'temporal_',
        prometheus: {
          bindAddress: '127.0.0.1:9464',
          countersTotalSuffix: true,
          useSecondsForDurations: true,
        },
      },
    });
    for (const [variable, value] of [
      ['METRICS_PORT', '3000'], // the API's own port
      ['METRICS_PORT', '0'],
      ['METRICS_PORT', 'nine'],
      ['METRICS_TOKEN', 'short'],
      ['METRICS_TOKEN', 'has a space in it, sixteen+'],
      ['TEMPORAL_METRICS_ADDRESS', '9464'],
    ] as const) {
      const err = errorOf({ [variable]: value });
      expect(err.variable, `${variable}=${value}`).toBe(variable);
    }
  });

  it('switches to deployment mode with external services and no demo users', () => {
    const c = loadConfig(deployment);
    expect(c.mode).toBe('deployment');
    expect(c.temporal.address).toBe('temporal:7233');
    expect(c.seedDemo).toBe(false);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ TEMPORAL_DEV_PORT: '-1' }, 'TEMPORAL_DEV_PORT'],
    [{ ...deployment, TEMPORAL_ADDRESS: 'no-port' }, 'TEMPORAL_ADDRESS'],
    [{ ...deployment, DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ ...deployment, JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ ...deployment, PAYLOAD_KEY: 'abc' }, 'PAYLOAD_KEY'],
    [{ ...deployment, AUDIT_KEY: '' }, 'AUDIT_KEY'],
    [{ ...deployment, AUDIT_KEY: 'c2hvcnQ=' }, 'AUDIT_KEY'],
    [{ AUDIT_ANCHOR_SECONDS: '0' }, 'AUDIT_ANCHOR_SECONDS'],
    [{ TEMPORAL_ADDRESS: 'temporal:7233', PAYLOAD_KEY: KEY }, 'JWT_SECRET'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ SEED_DEMO: 'maybe' }, 'SEED_DEMO'],
    [{ TEMPORAL_TLS_CERT_PATH: '/c.pem' }, 'TEMPORAL_TLS_KEY_PATH'],
  ])('refuses %o naming %s', (env, variable) => {
    const err = errorOf(env as Record<string, string>);
    expect(err.variable).toBe(variable);
    expect(err.message).toContain(variable);
  });

  it('keeps the audit key outside the database: configured in deployment, generated under DATA_DIR embedded', () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'xiecha-secrets-'));
    try {
      const c = loadConfig({ DATA_DIR: dataDir });
      expect(c.auditAnchorFile).toBe(path.join(dataDir, 'audit-anchors.log'));
      expect(c.auditAnchorSeconds).toBe(60);
      // An older DATA_DIR: secrets.json without an audit key gets one, the other keys are kept.
      writeFileSync(
        path.join(dataDir, 'secrets.json'),
        JSON.stringify({ jwtSecret: 'j'.repeat(40), payloadKey: KEY }),
      );
      const first = loadSecrets(c);
      expect(first.auditKey).toHaveLength(32);
      expect(first.payloadKeys[0]?.equals(Buffer.from(KEY, 'base64'))).toBe(true);
      expect(first.jwtSecret).toBe('j'.repeat(40));
      expect(loadSecrets(c).auditKey.equals(first.auditKey)).toBe(true);
      expect(first.auditKey.equals(first.payloadKeys[0] as Buffer)).toBe(false);
      const deployed = loadSecrets(
        loadConfig({ ...deployment, AUDIT_KEY: Buffer.alloc(32, 4).toString('base64') }),
      );
      expect(deployed.auditKey.equals(Buffer.alloc(32, 4))).toBe(true);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('reads a payload key ring (current first) and a subject key that outlives rotations', () => {
    const k1 = Buffer.alloc(32, 1).toString('base64');
    const k2 = Buffer.alloc(32, 2).toString('base64');
    const sk = Buffer.alloc(32, 9).toString('base64');
    const ring = loadConfig({
      ...deployment,
      PAYLOAD_KEY: '',
      PAYLOAD_KEYS: `${k2}, ${k1}`,
      SUBJECT_KEY: sk,
    });
    expect(ring.payloadKeys).toEqual([k2, k1]);
    expect(errorOf({ ...deployment, PAYLOAD_KEY: '', PAYLOAD_KEYS: `${k2},${k1}` }).variable).toBe(
      'SUBJECT_KEY',
    );
    expect(errorOf({ ...deployment, PAYLOAD_KEYS: k1 }).variable).toBe('PAYLOAD_KEYS'); // both set
    expect(errorOf({ ...deployment, PAYLOAD_KEY: '', PAYLOAD_KEYS: `${k1},${k1}` }).variable).toBe(
      'PAYLOAD_KEYS',
    );
    expect(errorOf({ ...deployment, PAYLOAD_KEY: '', PAYLOAD_KEYS: `${k1},x` }).variable).toBe(
      'PAYLOAD_KEYS',
    );
    // One key without SUBJECT_KEY: the subject key it always had (derived from it) — searches keep working.
    const single = loadSecrets(loadConfig({ ...deployment, PAYLOAD_KEY: k1 }));
    expect(single.subjectKey.equals(legacySubjectKey(Buffer.from(k1, 'base64')))).toBe(true);
    const dataDir = mkdtempSync(path.join(tmpdir(), 'xiecha-ring-'));
    try {
      writeFileSync(
        path.join(dataDir, 'secrets.json'),
        JSON.stringify({ jwtSecret: 'j'.repeat(40), payloadKey: k1 }),
      );
      const before = loadSecrets(loadConfig({ DATA_DIR: dataDir }));
      expect(before.subjectKey.equals(legacySubjectKey(Buffer.from(k1, 'base64')))).toBe(true);
      rotateStoredPayloadKey(dataDir);
      const after = loadSecrets(loadConfig({ DATA_DIR: dataDir }));
      expect(after.payloadKeys).toHaveLength(2);
      expect(after.payloadKeys[1]?.equals(Buffer.from(k1, 'base64'))).toBe(true);
      expect(after.subjectKey.equals(before.subjectKey)).toBe(true);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses to run the API or the worker alone without external Temporal and PostgreSQL', () => {
    expect(() => requireExternalServices(loadConfig({}), 'npm run api')).toThrow(
      /TEMPORAL_ADDRESS is required for `npm run api`/,
    );
    const noDb = loadConfig({ ...deployment, DATABASE_URL: '' });
    expect(() => requireExternalServices(noDb, 'npm run worker')).toThrow(
      /DATABASE_URL is required for `npm run worker`/,
    );
    expect(requireExternalServices(loadConfig(deployment), 'npm run api')).toEqual({
      temporalAddress: 'temporal:7233',
      databaseUrl: deployment.DATABASE_URL,
    });
  });
});
