/**
 * The audit log (Art. 10, 12): hash-chained, so changing or deleting a row is found and named, both by
 * `verifyAuditChain` and by the `npm run audit:verify` command; and the office's endpoint to query it
 * (by case, person, period, with pagination). Runs on every database target; no Temporal needed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCalendarSource } from '../../activities/calendar-source.ts';
import { type App, buildApp } from '../../api/app.ts';
import {
  auditHash,
  bindAuditKey,
  GENESIS_HASH,
  KEYED_MAC,
  LEGACY_MAC,
  recordAudit,
  verifyAuditChain,
} from '../../api/services/audit.ts';
import { anchorAuditChain, readAnchors } from '../../api/services/audit-anchors.ts';
import type { CaseGateway } from '../../api/services/case-gateway.ts';
import { auditVerify } from '../../app/audit-verify.ts';
import { PROJECT_ROOT } from '../../app/temporal-tools.ts';
import { openDatabase } from '../../db/client.ts';
import { migrate } from '../../db/migrate.ts';
import { auditLog } from '../../db/schema.ts';
import { startBody, TEST_JWT_SECRET } from '../support/api.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { silentLog, TEST_AUDIT_KEY, TEST_CONTENT_CIPHER, TEST_SUBJECT_KEY } from '../support/temporal.ts';

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
      // The start reaches Temporal, then the answer is lost (a crash, a timeout): see the `attempted` test.
      gateway: {
        start: async () => {
          throw new Error('connection lost after the workflow was started');
        },
      } as unknown as CaseGateway,
      jwtSecret: TEST_JWT_SECRET,
      subjectKey: TEST_SUBJECT_KEY,
      auditKey: TEST_AUDIT_KEY,
      contentCipher: TEST_CONTENT_CIPHER,
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
    const key = TEST_AUDIT_KEY;
    const intact = await verifyAuditChain(db, { key });
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
    const afterChange = await verifyAuditChain(db, { key });
    expect(afterChange).toMatchObject({ ok: false, brokenAt: changed, rows: 3 });
    expect(afterChange.reason).toMatch(/changed/);
    // Small batches: the break is found across page boundaries too.
    expect(await verifyAuditChain(db, { key, batch: 2 })).toMatchObject({ ok: false, brokenAt: changed });

    // Put it back: intact again (the hash covers exactly the content).
    await db
      .update(auditLog)
      .set({ detail: original?.detail ?? {} })
      .where(eq(auditLog.id, changed));
    expect((await verifyAuditChain(db, { key })).ok).toBe(true);

    // Someone deletes a row: the next one no longer links.
    const deleted = ids[6] as number;
    await db.execute(sql`delete from audit_log where id = ${deleted}`);
    const afterDelete = await verifyAuditChain(db, { key });
    expect(afterDelete).toMatchObject({ ok: false, brokenAt: ids[7] });
    expect(afterDelete.reason).toMatch(/removed|reordered/);

    // Someone changes who acted.
    const actor = ids[1] as number;
    await db.execute(sql`update audit_log set actor_id = 'stf-someone-else' where id = ${actor}`);
    expect(await verifyAuditChain(db, { key })).toMatchObject({ ok: false, brokenAt: actor });
  });

  it('is keyed: rows rewritten and the chain rebuilt without AUDIT_KEY (plain SHA-256 or another key) do not verify', async () => {
    const db = database.db;
    await db.execute(sql`delete from audit_log`);
    for (let i = 0; i < 4; i++)
      await recordAudit(db, { action: 'auth.login', actorId: `stf-${i}`, outcome: 'allowed', detail: { i } });
    expect((await verifyAuditChain(db, { key: TEST_AUDIT_KEY })).ok).toBe(true);
    expect((await verifyAuditChain(db, { key: Buffer.alloc(32, 1) })).ok).toBe(false);

    const dir = mkdtempSync(path.join(tmpdir(), 'xiecha-anchor-'));
    const file = path.join(dir, 'audit-anchors.log');
    await anchorAuditChain(db, { file });
    const anchors = readAnchors(file);
    expect(anchors[0]?.legacyUntil).toBe(0);

    // Someone with write access to the database changes who logged in, and recomputes every row's hash
    // the way the old unkeyed scheme did, and the way they would with a key of their own.
    const rows = await db.select().from(auditLog).orderBy(auditLog.id);
    for (const forger of [{ version: KEYED_MAC, key: Buffer.alloc(32, 3) }, { version: LEGACY_MAC }]) {
      let prev = GENESIS_HASH;
      for (const r of rows) {
        const actorId = r.actorId === 'stf-2' ? 'stf-intruder' : r.actorId;
        const hash = auditHash(prev, { ...r, actorId, outcome: r.outcome as 'allowed' }, forger);
        await db.execute(
          sql`update audit_log set actor_id = ${actorId}, prev_hash = ${prev}, hash = ${hash}, mac_version = ${forger.version} where id = ${r.id}`,
        );
        prev = hash;
      }
      // A key of their own: the first row fails. Plain SHA-256 throughout would pass as a legacy chain,
      // but the anchors outside the database say no row after id 0 may be legacy.
      const report = await verifyAuditChain(db, { key: TEST_AUDIT_KEY, anchors });
      expect(report.ok, JSON.stringify(forger)).toBe(false);
      expect(report.brokenAt).toBe(rows[0]?.id);
      expect(report.reason).toMatch(forger.key ? /changed/ : /legacy/);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps verifying legacy unkeyed rows as a prefix only, and catches a deleted tail through the anchors outside the database', async () => {
    const db = database.db;
    await db.execute(sql`delete from audit_log`);
    // Rows from before AUDIT_KEY: mac_version 1, plain SHA-256.
    let prev = GENESIS_HASH;
    for (let i = 0; i < 3; i++) {
      const at = new Date(Date.now() - 60_000 + i);
      const entry = { action: 'case.read', actorId: 'stf-old', outcome: 'allowed' as const, detail: { i } };
      const hash = auditHash(prev, { ...entry, at }, { version: LEGACY_MAC });
      await db.insert(auditLog).values({ ...entry, at, prevHash: prev, hash, macVersion: LEGACY_MAC });
      prev = hash;
    }
    for (let i = 0; i < 3; i++)
      await recordAudit(db, { action: 'case.read', outcome: 'allowed', detail: { i } });
    const mixed = await verifyAuditChain(db, { key: TEST_AUDIT_KEY });
    expect(mixed).toMatchObject({ ok: true, rows: 6, legacyRows: 3 });

    // Anchors: the newest row, in a file outside the database (and in the log).
    const dir = mkdtempSync(path.join(tmpdir(), 'xiecha-anchor-'));
    const file = path.join(dir, 'audit-anchors.log');
    const lines: unknown[] = [];
    const anchor = await anchorAuditChain(db, {
      file,
      log: { info: (o: unknown) => lines.push(o) } as never,
    });
    expect(anchor).toBeDefined();
    expect(lines).toEqual([{ auditAnchor: anchor }]);
    // Nothing new: no second anchor.
    expect(await anchorAuditChain(db, { file })).toBeUndefined();
    await recordAudit(db, { action: 'case.read', outcome: 'allowed', detail: { last: true } });
    const anchors = readAnchors(file);
    expect(anchors.map((a) => a.id)).toEqual([anchor?.id]);
    expect(await verifyAuditChain(db, { key: TEST_AUDIT_KEY, anchors })).toMatchObject({
      ok: true,
      anchors: 1,
    });

    // Someone deletes the newest rows: the chain that remains is intact, but the anchored row is gone.
    await db.execute(sql`delete from audit_log where id >= ${anchor?.id}`);
    const cut = await verifyAuditChain(db, { key: TEST_AUDIT_KEY, anchors });
    expect(cut).toMatchObject({ ok: false, brokenAt: anchor?.id });
    expect(cut.reason).toMatch(/rows at the end were deleted/);
    expect((await verifyAuditChain(db, { key: TEST_AUDIT_KEY })).ok).toBe(true);

    // A legacy row after keyed ones (a downgrade of the tail) is refused.
    const [last] = await db.select().from(auditLog).orderBy(sql`${auditLog.id} desc`).limit(1);
    const entry = { action: 'case.read', outcome: 'allowed' as const, detail: {} };
    const at = new Date();
    const hash = auditHash(last?.hash ?? GENESIS_HASH, { ...entry, at }, { version: LEGACY_MAC });
    await db
      .insert(auditLog)
      .values({ ...entry, at, prevHash: last?.hash ?? GENESIS_HASH, hash, macVersion: 1 });
    const downgraded = await verifyAuditChain(db, { key: TEST_AUDIT_KEY });
    expect(downgraded.ok).toBe(false);
    expect(downgraded.reason).toMatch(/legacy/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes `attempted` before a case is started, so a crash after the workflow started still leaves who did it', async () => {
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'req-a', password: 'demo1234' },
    });
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/verifications',
      headers: { authorization: `Bearer ${login.json().token}`, 'idempotency-key': 'attempt-crash-0001' },
      payload: startBody(),
    });
    expect(res.statusCode).toBe(500);
    const rows = await database.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, 'case.start'))
      .orderBy(auditLog.id);
    expect(rows.map((r) => `${r.actorId}:${r.outcome}`)).toEqual(['stf-req-a:attempted', 'stf-req-a:error']);
    expect(rows[0]?.caseId).toMatch(/^case-ZB-RS-/);
    expect(rows[1]).toMatchObject({ caseId: rows[0]?.caseId, detail: { attemptId: rows[0]?.id } });
  });
});

describe('npm run audit:verify', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'xiecha-audit-'));
    const database = await openDatabase({ kind: 'pglite', dataDir: path.join(dataDir, 'pglite') });
    await migrate(database);
    // The key the embedded system generated under DATA_DIR (never in the database).
    writeFileSync(
      path.join(dataDir, 'secrets.json'),
      JSON.stringify({ auditKey: TEST_AUDIT_KEY.toString('base64') }),
    );
    bindAuditKey(database.db, TEST_AUDIT_KEY);
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

  it('exits 1 naming the anchored row when the newest rows were deleted, and 2 without the key', async () => {
    const database = await openDatabase({ kind: 'pglite', dataDir: path.join(dataDir, 'pglite') });
    bindAuditKey(database.db, TEST_AUDIT_KEY);
    // Start over from an intact chain, anchored as the API process does.
    await database.db.execute(sql`delete from audit_log`);
    for (let i = 0; i < 3; i++) await recordAudit(database.db, { action: 'auth.login', outcome: 'allowed' });
    const anchor = await anchorAuditChain(database.db, { file: path.join(dataDir, 'audit-anchors.log') });
    await database.close();
    const ok = run();
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/1 anchors in .*audit-anchors\.log, the last at id/);

    const again = await openDatabase({ kind: 'pglite', dataDir: path.join(dataDir, 'pglite') });
    await again.db.execute(sql`delete from audit_log where id >= ${anchor?.id}`);
    await again.close();
    const cut = run();
    expect(cut.status).toBe(1);
    expect(cut.stderr).toMatch(
      new RegExp(
        `BROKEN at audit_log.id = ${anchor?.id}: the anchored row is missing: rows at the end were deleted`,
      ),
    );
    const secrets = readFileSync(path.join(dataDir, 'secrets.json'));
    rmSync(path.join(dataDir, 'secrets.json'));
    expect((await auditVerify({ DATA_DIR: dataDir })).exitCode).toBe(2);
    writeFileSync(path.join(dataDir, 'secrets.json'), secrets);
    expect(
      (await auditVerify({ DATA_DIR: dataDir, DATABASE_URL: 'postgres://x@127.0.0.1:1/x' })).message,
    ).toMatch(/set AUDIT_KEY/);
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
