/**
 * Audit retention (AUDIT_RETENTION_DAYS ≥ 183) and the SM profile's audit MAC: a chain that mixes HMAC-SHA-256
 * (mac_version 2) and HMAC-SM3 (mac_version 3) rows verifies; a purge deletes the rows past the period and
 * leaves a MACed checkpoint the verifier starts from, so the rest still verifies — and a forged or removed
 * checkpoint, rows removed after it or put back before it are caught. The worker's job and
 * `npm run audit:purge` run the same purge; `npm run audit:verify` reports the checkpoint.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { asc, eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { bindAuditKey, purgeAuditLog, recordAudit, verifyAuditChain } from '../../api/services/audit.ts';
import { anchorAuditChain, readAnchors } from '../../api/services/audit-anchors.ts';
import { startAuditPurge } from '../../api/services/audit-retention.ts';
import { auditPurge } from '../../app/audit-purge.ts';
import { auditVerify } from '../../app/audit-verify.ts';
import { ConfigError, loadConfig } from '../../app/config.ts';
import { openDatabase } from '../../db/client.ts';
import { migrate } from '../../db/migrate.ts';
import { auditCheckpoints, auditLog } from '../../db/schema.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { silentLog, TEST_AUDIT_KEY } from '../support/temporal.ts';

const DAY = 86_400_000;
const JAN = new Date('2026-01-05T02:00:00.000Z');
const MAY = new Date('2026-05-04T02:00:00.000Z');
/** 183 days after 2026-01-20: rows of January are past the period, rows of May are not. */
const PURGE_AT = new Date(new Date('2026-01-20T00:00:00.000Z').getTime() + 183 * DAY);

describe('AUDIT_RETENTION_DAYS', () => {
  it('is 183 days unless set, and refuses less than six months with a message naming the variable', () => {
    expect(loadConfig({}).auditRetentionDays).toBe(183);
    expect(loadConfig({ AUDIT_RETENTION_DAYS: '400' }).auditRetentionDays).toBe(400);
    expect(() => loadConfig({ AUDIT_RETENTION_DAYS: '182' })).toThrow(ConfigError);
    expect(() => loadConfig({ AUDIT_RETENTION_DAYS: '30' })).toThrow(
      /AUDIT_RETENTION_DAYS must be at least 183 days: .*six months/,
    );
    expect(() => loadConfig({ AUDIT_RETENTION_DAYS: 'half a year' })).toThrow(/AUDIT_RETENTION_DAYS/);
    expect(loadConfig({}).auditPurgeHours).toBe(24);
    expect(loadConfig({ AUDIT_PURGE_HOURS: '0' }).auditPurgeHours).toBe(0);
  });
});

async function writeAt(db: TestDatabase['db'], at: Date, n: number, action: string): Promise<void> {
  vi.setSystemTime(at);
  for (let i = 0; i < n; i++)
    await recordAudit(db, { action, outcome: 'allowed', actorId: `stf-${i}`, detail: { i } });
}

describe.each(databaseTargets())('audit retention and mixed MACs on $name', (target) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await target.open({ seed: false });
  });
  afterAll(async () => {
    await database?.dispose();
  });
  beforeEach(async () => {
    // Each test starts from an empty log. Only Date is faked: rows get the instants the test chooses.
    await database.db.delete(auditLog);
    await database.db.delete(auditCheckpoints);
    vi.useFakeTimers({ toFake: ['Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** January under the default profile (HMAC-SHA-256), May under `sm` (HMAC-SM3), then default again. */
  async function mixedChain(): Promise<void> {
    bindAuditKey(database.db, TEST_AUDIT_KEY);
    await writeAt(database.db, JAN, 3, 'auth.login');
    bindAuditKey(database.db, TEST_AUDIT_KEY, 'sm');
    await writeAt(database.db, MAY, 3, 'case.read');
    bindAuditKey(database.db, TEST_AUDIT_KEY);
    await writeAt(database.db, new Date(MAY.getTime() + DAY), 1, 'case.read');
  }

  const versions = async () =>
    (await database.db.select({ v: auditLog.macVersion }).from(auditLog).orderBy(asc(auditLog.id))).map(
      (r) => r.v,
    );

  it('verifies a chain that switched from HMAC-SHA-256 to HMAC-SM3 and back', async () => {
    await mixedChain();
    expect(await versions()).toEqual([2, 2, 2, 3, 3, 3, 2]);
    const report = await verifyAuditChain(database.db, { key: TEST_AUDIT_KEY });
    expect(report).toMatchObject({ ok: true, rows: 7, byVersion: { 2: 4, 3: 3 } });
    // An HMAC-SM3 row is as tamper-evident as the others, and needs the key.
    const [sm] = await database.db.select().from(auditLog).where(eq(auditLog.macVersion, 3)).limit(1);
    await database.db.execute(sql`update audit_log set purpose = 'changed' where id = ${sm?.id}`);
    expect(await verifyAuditChain(database.db, { key: TEST_AUDIT_KEY })).toMatchObject({
      ok: false,
      brokenAt: sm?.id,
    });
    await database.db.execute(sql`update audit_log set purpose = null where id = ${sm?.id}`);
    expect(await verifyAuditChain(database.db, { key: Buffer.alloc(32, 6) })).toMatchObject({ ok: false });
  });

  it('purges the rows past the period, records a checkpoint, and the rest still verifies', async () => {
    await mixedChain();
    const anchorFile = path.join(mkdtempSync(path.join(tmpdir(), 'xiecha-retention-')), 'anchors.log');
    const all = await database.db.select().from(auditLog).orderBy(asc(auditLog.id));
    // Anchors written while the January rows existed (the first one at a January row).
    vi.setSystemTime(JAN);
    const early = await anchorAuditChain(database.db, { file: anchorFile });
    expect(early?.id).toBe(all[6]?.id);
    writeFileSync(anchorFile, `${JSON.stringify({ id: all[1]?.id, hash: all[1]?.hash, legacyUntil: 0 })}\n`, {
      flag: 'a',
    });

    vi.setSystemTime(PURGE_AT);
    const dry = await purgeAuditLog(database.db, { retentionDays: 183, by: 'stf-admin', dryRun: true });
    expect(dry.purged).toBe(3);
    expect(await database.db.select().from(auditLog)).toHaveLength(7);

    const result = await purgeAuditLog(database.db, { retentionDays: 183, by: 'stf-admin' });
    expect(result.purged).toBe(3);
    expect(result.cutoff.toISOString()).toBe('2026-01-20T00:00:00.000Z');
    expect(result.checkpoint).toMatchObject({
      throughId: all[2]?.id,
      throughHash: all[2]?.hash,
      throughMacVersion: 2,
      purgedRows: 3,
      retentionDays: 183,
      purgedBy: 'stf-admin',
      macVersion: 2,
    });
    const left = await database.db.select().from(auditLog).orderBy(asc(auditLog.id));
    expect(left.map((r) => r.id)).toEqual([...all.slice(3).map((r) => r.id), expect.any(Number)]);
    // The purge is itself in the log, attributed to whoever ran it.
    expect(left.at(-1)).toMatchObject({
      action: 'audit.purge',
      actorId: 'stf-admin',
      detail: { purgedRows: 3, throughId: all[2]?.id, retentionDays: 183 },
    });
    const report = await verifyAuditChain(database.db, {
      key: TEST_AUDIT_KEY,
      anchors: readAnchors(anchorFile),
    });
    expect(report).toMatchObject({
      ok: true,
      rows: 5,
      anchors: 2,
      checkpoint: { throughId: all[2]?.id, purgedBy: 'stf-admin' },
    });

    // Nothing more is past the period: a second purge deletes nothing and writes nothing.
    const again = await purgeAuditLog(database.db, { retentionDays: 183, by: 'stf-admin' });
    expect(again).toMatchObject({ purged: 0 });
    expect(await database.db.select().from(auditCheckpoints)).toHaveLength(1);
    expect(await database.db.select().from(auditLog)).toHaveLength(5);
  });

  it('catches a forged or removed checkpoint, rows removed after it and rows put back before it', async () => {
    await mixedChain();
    const all = await database.db.select().from(auditLog).orderBy(asc(auditLog.id));
    vi.setSystemTime(PURGE_AT);
    const { checkpoint } = await purgeAuditLog(database.db, { retentionDays: 183, by: 'stf-admin' });
    const verify = () => verifyAuditChain(database.db, { key: TEST_AUDIT_KEY });
    expect((await verify()).ok).toBe(true);

    // Moving the start forward (hiding May's first row) needs the key: the checkpoint's MAC no longer holds.
    await database.db
      .update(auditCheckpoints)
      .set({ throughId: all[3]?.id, throughHash: all[3]?.hash })
      .where(eq(auditCheckpoints.id, checkpoint?.id ?? 0));
    expect(await verify()).toMatchObject({ ok: false, reason: expect.stringMatching(/checkpoint .* MAC/) });
    await database.db
      .update(auditCheckpoints)
      .set({ throughId: all[2]?.id, throughHash: all[2]?.hash })
      .where(eq(auditCheckpoints.id, checkpoint?.id ?? 0));
    expect((await verify()).ok).toBe(true);

    // A row after the checkpoint removed: the next one no longer links.
    const [first] = await database.db.select().from(auditLog).orderBy(asc(auditLog.id)).limit(1);
    await database.db.delete(auditLog).where(eq(auditLog.id, first?.id ?? 0));
    expect(await verify()).toMatchObject({ ok: false, brokenAt: all[4]?.id });
    await database.db.insert(auditLog).values(first as typeof auditLog.$inferInsert);
    expect((await verify()).ok).toBe(true);

    // A purged row put back (inserted before the checkpoint): refused.
    await database.db.insert(auditLog).values(all[1] as typeof auditLog.$inferInsert);
    expect(await verify()).toMatchObject({ ok: false, brokenAt: all[1]?.id });
    await database.db.delete(auditLog).where(eq(auditLog.id, all[1]?.id ?? 0));

    // The checkpoint removed: the first remaining row does not start a chain.
    await database.db.delete(auditCheckpoints);
    expect(await verify()).toMatchObject({ ok: false, brokenAt: all[3]?.id });
  });

  it('goes on from the checkpoint when every row was purged, under the SM profile', async () => {
    bindAuditKey(database.db, TEST_AUDIT_KEY, 'sm');
    await writeAt(database.db, JAN, 2, 'auth.login');
    vi.setSystemTime(PURGE_AT);
    // The purge's own row is written after it, linked to the checkpoint; the checkpoint is HMAC-SM3 too.
    const { checkpoint, purged } = await purgeAuditLog(database.db, { retentionDays: 183, by: 'scheduler' });
    expect(purged).toBe(2);
    expect(checkpoint).toMatchObject({ macVersion: 3, throughMacVersion: 3 });
    const [row] = await database.db.select().from(auditLog);
    expect(row).toMatchObject({ action: 'audit.purge', actorId: null, prevHash: checkpoint?.throughHash });
    expect(await verifyAuditChain(database.db, { key: TEST_AUDIT_KEY })).toMatchObject({
      ok: true,
      rows: 1,
      byVersion: { 3: 1 },
    });
    await expect(purgeAuditLog(database.db, { retentionDays: 90, by: 'stf-admin' })).rejects.toThrow(/183/);
  });

  it('the worker job purges on its timer', async () => {
    await mixedChain();
    vi.setSystemTime(PURGE_AT);
    const job = startAuditPurge(database.db, {
      retentionDays: 183,
      intervalMs: 3_600_000,
      firstRunMs: 1,
      log: silentLog,
    });
    try {
      await vi.waitFor(
        async () => expect(await database.db.select().from(auditCheckpoints)).toHaveLength(1),
        { timeout: 10_000, interval: 50 },
      );
    } finally {
      job.stop();
    }
    const [checkpoint] = await database.db.select().from(auditCheckpoints);
    expect(checkpoint).toMatchObject({ purgedBy: 'scheduler', purgedRows: 3 });
    expect((await verifyAuditChain(database.db, { key: TEST_AUDIT_KEY })).ok).toBe(true);
  });
});

describe('npm run audit:purge and audit:verify', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'xiecha-purge-'));
  afterAll(() => {
    vi.useRealTimers();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const env = { DATA_DIR: dataDir, SEED_DEMO: 'false', CRYPTO_PROFILE: 'sm' };

  it('purges the embedded database as the named operator, and the chain still verifies', async () => {
    const database = await openDatabase({ kind: 'pglite', dataDir: path.join(dataDir, 'pglite') });
    await migrate(database);
    writeFileSync(
      path.join(dataDir, 'secrets.json'),
      JSON.stringify({ auditKey: TEST_AUDIT_KEY.toString('base64') }),
    );
    vi.useFakeTimers({ toFake: ['Date'] });
    bindAuditKey(database.db, TEST_AUDIT_KEY);
    await writeAt(database.db, JAN, 2, 'auth.login');
    await writeAt(database.db, MAY, 2, 'auth.login');
    vi.useRealTimers();
    await database.close();

    expect(await auditPurge([], env)).toMatchObject({ exitCode: 2, message: expect.stringMatching(/--by/) });
    expect(await auditPurge(['--by', 'stf-admin'], { ...env, AUDIT_RETENTION_DAYS: '90' })).toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/AUDIT_RETENTION_DAYS must be at least 183/),
    });
    expect(await auditPurge(['--by', 'stf-admin', '--dry-run'], env, PURGE_AT)).toMatchObject({
      exitCode: 0,
      message: expect.stringMatching(/dry run.*2 rows older than 183 days/),
    });
    const run = await auditPurge(['--by=stf-admin'], env, PURGE_AT);
    expect(run.exitCode, run.message).toBe(0);
    expect(run.message).toMatch(/2 rows older than 183 days .* deleted; the chain now starts after id 2/);

    const verified = await auditVerify({ DATA_DIR: dataDir });
    expect(verified.exitCode, verified.message).toBe(0);
    expect(verified.message).toMatch(
      /intact \(3 rows: 2 HMAC-SHA-256, 1 HMAC-SM3; older rows purged by stf-admin .* after id 2/,
    );
  });
});
