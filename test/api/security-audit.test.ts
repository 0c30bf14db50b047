/**
 * The audit log (Art. 10, 12): hash-chained, so changing or deleting a row is found and named, both by
 * `verifyAuditChain` and by the `npm run audit:verify` command; and the office's endpoint to query it
 * (by case, person, period, with pagination). Runs on every database target; no Temporal needed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCalendarSource } from '../../activities/calendar-source.ts';
import { type App, buildApp } from '../../api/app.ts';
import { recordAudit, verifyAuditChain } from '../../api/services/audit.ts';
import type { CaseGateway } from '../../api/services/case-gateway.ts';
import { auditVerify } from '../../app/audit-verify.ts';
import { PROJECT_ROOT } from '../../app/temporal-tools.ts';
import { openDatabase } from '../../db/client.ts';
import { migrate } from '../../db/migrate.ts';
import { auditLog } from '../../db/schema.ts';
import { TEST_JWT_SECRET } from '../support/api.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { silentLog, TEST_SUBJECT_KEY } from '../support/temporal.ts';

const CASE_A = 'case-ZB-RS-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const CASE_B = 'case-ZB-SJ-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';

describe.each(databaseTargets())('the audit chain on $name', (target) => {
  let database: TestDatabase;
  let app: App;
  let office: string;

  beforeAll(async () => {
    database = await target.open();
    app = await buildApp({
      log: silentLog,
      db: database.db,
      gateway: {} as CaseGateway,
      jwtSecret: TEST_JWT_SECRET,
      subjectKey: TEST_SUBJECT_KEY,
      calendar: createCalendarSource(database.db),
      readiness: { database: async () => {}, pendingMigrations: async () => 0, temporal: async () => {} },
      rateLimitPerMinute: 100_000,
    });
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'office', password: 'demo1234' },
    });
    office = `Bearer ${login.json().token}`;
    for (let i = 0; i < 12; i++) {
      await recordAudit(database.db, {
        actorId: i % 2 ? 'stf-req-a' : 'stf-iss-a',
        actorUnit: i % 2 ? 'ZB-RS' : 'ZB-GA',
        action: 'case.read',
        caseId: i < 8 ? CASE_A : CASE_B,
        purpose: '社会保险参保登记',
        sourceIp: '10.1.2.3',
        outcome: i === 5 ? 'denied' : 'allowed',
        detail: { n: i },
      });
    }
  });
  afterAll(async () => {
    await app?.close();
    await database?.dispose();
  });

  it('the office queries it by case, person and period, newest first, page by page; the query is audited', async () => {
    const get = (qs: string) =>
      app.inject({ url: `/api/v1/audit?${qs}`, headers: { authorization: office } });

    const byCase = await get(`caseId=${CASE_A}&limit=3`);
    expect(byCase.statusCode, byCase.body).toBe(200);
    const page1 = byCase.json();
    expect(page1.items).toHaveLength(3);
    expect(page1.items.map((r: { detail: { n: number } }) => r.detail.n)).toEqual([7, 6, 5]);
    expect(page1.nextCursor).toBe(page1.items[2].id);
    const page2 = (await get(`caseId=${CASE_A}&limit=3&cursor=${page1.nextCursor}`)).json();
    expect(page2.items.map((r: { detail: { n: number } }) => r.detail.n)).toEqual([4, 3, 2]);
    const page3 = (await get(`caseId=${CASE_A}&limit=3&cursor=${page2.nextCursor}`)).json();
    expect(page3.items.map((r: { detail: { n: number } }) => r.detail.n)).toEqual([1, 0]);
    expect(page3.nextCursor).toBeNull();

    const byActor = (await get(`actorId=stf-req-a&caseId=${CASE_B}`)).json();
    expect(byActor.items.map((r: { detail: { n: number } }) => r.detail.n)).toEqual([11, 9]);
    expect(byActor.items[0]).toMatchObject({
      actorUnit: 'ZB-RS',
      action: 'case.read',
      purpose: '社会保险参保登记',
      sourceIp: '10.1.2.3',
      outcome: 'allowed',
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const denied = (await get('outcome=denied&action=case.read')).json();
    expect(denied.items.map((r: { detail: { n: number } }) => r.detail.n)).toEqual([5]);

    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await get(`from=${encodeURIComponent(future)}`)).json().items).toEqual([]);
    const past = new Date(Date.now() - 3_600_000).toISOString();
    expect(
      (
        await get(
          `from=${encodeURIComponent(past)}&to=${encodeURIComponent(future)}&caseId=${CASE_B}&action=case.read`,
        )
      ).json().items,
    ).toHaveLength(4);
    const reversed = await get(`from=${encodeURIComponent(future)}&to=${encodeURIComponent(past)}`);
    expect(reversed.statusCode).toBe(422);
    expect(reversed.json().errors[0].pointer).toBe('/querystring/to');

    const [queried] = await database.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, 'audit.query'))
      .orderBy(auditLog.id)
      .limit(1);
    expect(queried).toMatchObject({ actorId: 'stf-office', caseId: CASE_A, outcome: 'allowed' });
  });

  it('is for the office only', async () => {
    for (const username of ['req-a', 'iss-a', 'admin']) {
      const login = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username, password: 'demo1234' },
      });
      const res = await app.inject({
        url: '/api/v1/audit',
        headers: { authorization: `Bearer ${login.json().token}` },
      });
      expect(res.statusCode, username).toBe(403);
    }
    expect((await app.inject({ url: '/api/v1/audit' })).statusCode).toBe(401);
  });

  it('verifies intact, then names the row whose detail was changed, then the gap where a row was deleted', async () => {
    const db = database.db;
    const intact = await verifyAuditChain(db);
    expect(intact.ok).toBe(true);
    const ids = (await db.select({ id: auditLog.id }).from(auditLog).orderBy(auditLog.id)).map((r) => r.id);
    expect(intact.rows).toBe(ids.length);

    // Someone with database access rewrites what a row says.
    const changed = ids[3] as number;
    const [original] = await db
      .select({ detail: auditLog.detail })
      .from(auditLog)
      .where(eq(auditLog.id, changed));
    await db.execute(sql`update audit_log set detail = '{"n": 99}'::jsonb where id = ${changed}`);
    const afterChange = await verifyAuditChain(db);
    expect(afterChange).toMatchObject({ ok: false, brokenAt: changed, rows: 3 });
    expect(afterChange.reason).toMatch(/changed/);
    // Small batches: the break is found across page boundaries too.
    expect(await verifyAuditChain(db, 2)).toMatchObject({ ok: false, brokenAt: changed });

    // Put it back: intact again (the hash covers exactly the content).
    await db
      .update(auditLog)
      .set({ detail: original?.detail ?? {} })
      .where(eq(auditLog.id, changed));
    expect((await verifyAuditChain(db)).ok).toBe(true);

    // Someone deletes a row: the next one no longer links.
    const deleted = ids[6] as number;
    await db.execute(sql`delete from audit_log where id = ${deleted}`);
    const afterDelete = await verifyAuditChain(db);
    expect(afterDelete).toMatchObject({ ok: false, brokenAt: ids[7] });
    expect(afterDelete.reason).toMatch(/removed|reordered/);

    // Someone changes who acted.
    const actor = ids[1] as number;
    await db.execute(sql`update audit_log set actor_id = 'stf-someone-else' where id = ${actor}`);
    expect(await verifyAuditChain(db)).toMatchObject({ ok: false, brokenAt: actor });
  });
});

describe('npm run audit:verify', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'xiecha-audit-'));
    const database = await openDatabase({ kind: 'pglite', dataDir: path.join(dataDir, 'pglite') });
    await migrate(database);
    for (let i = 0; i < 5; i++)
      await recordAudit(database.db, {
        action: 'auth.login',
        outcome: 'allowed',
        actorId: `stf-${i}`,
        detail: { i },
      });
    await database.close();
  });
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  const run = () =>
    spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'app/audit-verify.ts')], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '' },
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('exits 0 on an intact chain and 1, naming the row, on a broken one', async () => {
    const ok = run();
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/OK, the audit chain is intact \(5 rows/);

    const database = await openDatabase({ kind: 'pglite', dataDir: path.join(dataDir, 'pglite') });
    const [row] = await database.db
      .select({ id: auditLog.id })
      .from(auditLog)
      .orderBy(auditLog.id)
      .offset(2)
      .limit(1);
    await database.db.execute(sql`update audit_log set outcome = 'denied' where id = ${row?.id}`);
    await database.close();

    const broken = run();
    expect(broken.status).toBe(1);
    expect(broken.stderr).toMatch(new RegExp(`BROKEN at audit_log.id = ${row?.id}: content does not match`));
  });

  it('refuses, saying why, while the system runs on that DATA_DIR (PGlite is one process)', async () => {
    // A live process (our parent) holds the directory, as `npm start` would.
    const lockFile = path.join(dataDir, 'instance.lock');
    writeFileSync(lockFile, String(process.ppid));
    try {
      const res = await auditVerify({ DATA_DIR: dataDir });
      expect(res.exitCode).toBe(2);
      expect(res.message).toMatch(/stop `npm start` first/);
    } finally {
      rmSync(lockFile, { force: true });
    }
    expect((await auditVerify({ DATA_DIR: path.join(dataDir, 'nothing-here') })).exitCode).toBe(2);
  });
});
