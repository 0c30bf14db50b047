/**
 * Staffing under the A/B role system (Art. 6) through the API: the staffing report counts who is
 * available on the day (active and not absent, Beijing date) besides who is registered; a unit names a
 * backup liaison (联络员B角), kept by its liaison or an administrator, audited and validated; while every
 * liaison is absent, the backup receives the liaison's tasks and holds the liaison's rights ("B acting
 * for A"). On the real dev server and database.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCalendarSource } from '../../activities/calendar-source.ts';
import { createCaseActivities } from '../../activities/case-activities.ts';
import { auditLog, notifications, staffAbsences } from '../../db/schema.ts';
import { addCalendarDays, shanghaiDateOf, shanghaiInstant } from '../../domain/working-time/index.ts';
import type { CaseSnapshot } from '../../workflows/definitions.ts';
import { type ApiHarness, createApiHarness, startBody } from '../support/api.ts';
import { databaseTargets } from '../support/databases.ts';
import { createDevServerEnv, silentLog, TEST_CONTENT_CIPHER, TEST_SUBJECT_KEY } from '../support/temporal.ts';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

interface UnitStaffing {
  code: string;
  registered: { liaisons: number; agents: number };
  available: { liaisons: number; agents: number };
  backupLiaison: { id: string; name: string; availableToday: boolean } | null;
  problems: string[];
}

describe.each(databaseTargets())('staffing and the backup liaison on $name', (target) => {
  let h: ApiHarness;
  const auth: Record<string, string> = {};
  beforeAll(async () => {
    h = await createApiHarness(env, target);
    for (const u of ['req-a', 'iss-a', 'iss-a2', 'iss-a-lia', 'iss-b', 'iss-b2', 'iss-b-lia', 'admin'])
      auth[u] = await h.login(u);
  });
  afterAll(async () => {
    await h?.close();
  });

  const call = (who: string, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
    h.app.inject({
      method,
      url,
      headers: { authorization: auth[who] ?? '' },
      ...(payload === undefined ? {} : { payload }),
    });

  const absent = (who: string, unit: string, id: string, startsAt: Date, endsAt: Date) =>
    call(who, 'POST', `/api/v1/units/${unit}/staff/${id}/absences`, {
      startsAt: startsAt.toISOString(),
      endsAt: endsAt.toISOString(),
      reason: '外出培训',
    });

  const report = async (query = '') => {
    const res = await call('admin', 'GET', `/api/v1/admin/staffing-report${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as {
      date: string;
      units: UnitStaffing[];
      violations: { code: string; liaisons: number; agents: number; problems: string[] }[];
      warnings: { code: string; detail: string }[];
    };
  };

  it('flags a unit whose agents are all absent on the day, though both are registered', async () => {
    const before = await report();
    expect(before.violations).toEqual([]);
    expect(before.units.find((u) => u.code === 'ZB-MZ')).toMatchObject({
      registered: { liaisons: 1, agents: 2 },
      available: { liaisons: 1, agents: 2 },
      backupLiaison: { id: 'stf-iss-b2', availableToday: true },
    });

    // A day next week: both agents of ZB-MZ away for it (the report for today is unaffected).
    const day = addCalendarDays(shanghaiDateOf(new Date()), 7);
    const from = shanghaiInstant(day, 9 * 60);
    const to = shanghaiInstant(day, 17 * 60);
    for (const id of ['stf-iss-b', 'stf-iss-b2'])
      expect((await absent('iss-b-lia', 'ZB-MZ', id, from, to)).statusCode).toBe(201);
    expect((await report()).violations).toEqual([]);
    const then = await report(`?date=${day}`);
    expect(then.date).toBe(day);
    const mz = then.violations.find((v) => v.code === 'ZB-MZ');
    expect(mz).toMatchObject({ liaisons: 1, agents: 2, available: { liaisons: 1, agents: 0 } });
    expect(mz?.problems.join()).toContain('在岗经办人不足');
    expect(then.units.find((u) => u.code === 'ZB-MZ')?.backupLiaison?.availableToday).toBe(false);

    // Today: both agents of ZB-RS absent now.
    const now = new Date();
    const later = new Date(now.getTime() + 3600_000);
    for (const id of ['stf-req-a', 'stf-req-a2'])
      expect((await absent('admin', 'ZB-RS', id, now, later)).statusCode).toBe(201);
    const today = await report();
    const rs = today.violations.find((v) => v.code === 'ZB-RS');
    expect(rs).toMatchObject({ liaisons: 1, agents: 2, available: { liaisons: 1, agents: 0 } });
    expect(rs?.problems.join()).toContain('在岗经办人不足');
    const invalid = await call('admin', 'GET', '/api/v1/admin/staffing-report?date=2026-02-30');
    expect(invalid.statusCode).toBe(422);
    expect(invalid.json().errors[0].pointer).toBe('/querystring/date');
  });

  it('lets the unit’s liaison or an administrator name a backup liaison: an active agent of the unit; audited', async () => {
    expect(
      (await call('iss-b', 'PUT', '/api/v1/units/ZB-MZ/backup-liaison', { staffId: 'stf-iss-b' })).statusCode,
    ).toBe(403);
    expect(
      (await call('iss-a-lia', 'PUT', '/api/v1/units/ZB-MZ/backup-liaison', { staffId: 'stf-iss-b' }))
        .statusCode,
    ).toBe(403);
    for (const staffId of ['stf-iss-a', 'stf-iss-b-lia', 'stf-nobody']) {
      const bad = await call('iss-b-lia', 'PUT', '/api/v1/units/ZB-MZ/backup-liaison', { staffId });
      expect(bad.statusCode, staffId).toBe(422);
      expect(bad.json().errors[0].pointer).toBe('/body/staffId');
    }
    const set = await call('iss-b-lia', 'PUT', '/api/v1/units/ZB-MZ/backup-liaison', {
      staffId: 'stf-iss-b',
    });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json()).toEqual({ unitCode: 'ZB-MZ', backupLiaisonId: 'stf-iss-b' });
    const staff = (await call('iss-b-lia', 'GET', '/api/v1/units/ZB-MZ/staff')).json();
    expect(staff).toMatchObject({ backupLiaisonId: 'stf-iss-b', backupLiaisonActing: false });
    const units = (await call('admin', 'GET', '/api/v1/admin/units')).json();
    expect(units.items.find((u: { code: string }) => u.code === 'ZB-MZ').backupLiaisonId).toBe('stf-iss-b');
    const audited = await h.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'unit.backup_liaison'), eq(auditLog.outcome, 'allowed')));
    expect(audited.map((a) => a.actorUnit)).toEqual(['ZB-MZ']);
    expect(
      (await call('admin', 'PUT', '/api/v1/units/ZB-MZ/backup-liaison', { staffId: null })).statusCode,
    ).toBe(200);
  });

  it('while the liaison is absent, the backup liaison gets the liaison’s tasks and may reassign (B for A)', async () => {
    // iss-a has no A/B partner: when iss-a is absent, the case waits for the liaison to reassign it.
    const unpaired = await call('admin', 'PUT', '/api/v1/units/ZB-GA/staff/stf-iss-a/partner', {
      partnerId: null,
    });
    expect(unpaired.statusCode, unpaired.body).toBe(200);
    const started = await h.app.inject({
      method: 'POST',
      url: '/api/v1/verifications',
      headers: {
        authorization: auth['req-a'] ?? '',
        'idempotency-key': `staffing-${target.name}-${Date.now()}`,
      },
      payload: startBody(),
    });
    expect(started.statusCode, started.body).toBe(201);
    const id: string = started.json().id;
    const reg = await call('iss-a', 'POST', `/api/v1/verifications/${id}/register`, {});
    expect(reg.statusCode, reg.body).toBe(200);

    // Before: the backup liaison has no liaison rights while the liaison is present.
    expect((await call('iss-a2', 'GET', '/api/v1/units/ZB-GA/staff')).statusCode).toBe(403);

    const now = new Date();
    const later = new Date(now.getTime() + 3600_000);
    expect((await absent('admin', 'ZB-GA', 'stf-iss-a-lia', now, later)).statusCode).toBe(201);
    const away = await absent('admin', 'ZB-GA', 'stf-iss-a', now, later);
    expect(away.statusCode, away.body).toBe(201);
    expect(away.json().handOver.warning).toContain('请联络员转派');

    // The liaison's task reaches the backup liaison (iss-a2, seeded as ZB-GA's backup).
    const inbox = (await call('iss-a2', 'GET', '/api/v1/notifications')).json();
    const task = inbox.items.find((n: { kind: string }) => n.kind === 'handover_failed');
    expect(task?.message).toContain('郑伟');
    expect(task?.scope).toBe('personal');

    const staff = await call('iss-a2', 'GET', '/api/v1/units/ZB-GA/staff');
    expect(staff.statusCode, staff.body).toBe(200);
    expect(staff.json().backupLiaisonActing).toBe(true);
    expect((await call('iss-b2', 'GET', '/api/v1/units/ZB-GA/staff')).statusCode).toBe(403);

    const moved = await call('iss-a2', 'POST', `/api/v1/verifications/${id}/reassign`, {
      toStaffId: 'stf-iss-a2',
      reason: '原承办人缺岗',
    });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json().assigneeId).toBe('stf-iss-a2');
    const detail = (await call('iss-a2', 'GET', `/api/v1/verifications/${id}`)).json();
    const last = detail.timeline[detail.timeline.length - 1];
    expect(last).toMatchObject({ type: 'reassigned', actorId: 'stf-iss-a2', onBehalfOf: 'stf-iss-a-lia' });

    // The report: no liaison available today, but the backup is, so it is a warning, not a violation.
    const r = await report();
    expect(r.units.find((u) => u.code === 'ZB-GA')?.available.liaisons).toBe(0);
    expect(r.warnings.some((w) => w.code === 'ZB-GA' && w.detail.includes('代行'))).toBe(true);
  });
});

describe.each(databaseTargets())('liaison notifications under A/B roles on $name', (target) => {
  it('reach the backup liaison while a liaison assignee without a partner is absent', async () => {
    const database = await target.open();
    try {
      const db = database.db;
      const acts = createCaseActivities({
        db,
        calendar: createCalendarSource(db),
        subjectKey: TEST_SUBJECT_KEY,
        contentCipher: TEST_CONTENT_CIPHER,
        log: silentLog,
      });
      const now = new Date();
      const snapshot = (seq: number): CaseSnapshot => ({
        caseId: 'case-liaison-backup',
        docNumber: '淄人社协〔2026〕999号',
        status: 'registered',
        tier: '30m',
        requestingUnit: 'ZB-RS',
        catalog: { code: 'HJ-001', version: 1, name: '户籍信息证明' },
        purpose: '社会保险参保登记',
        createdBy: 'stf-req-a',
        createdAt: now.toISOString(),
        deadlines: [],
        waitIntervals: [],
        routing: {
          routingNo: 1,
          issuingUnit: 'ZB-GA',
          receivedAt: now.toISOString(),
          effectiveReceivedAt: now.toISOString(),
          dueAt: new Date(now.getTime() + 3600_000).toISOString(),
          flags: [],
          reminderAt: [],
          remindersSent: 0,
          arrivedAt: now.toISOString(),
        },
        returns: [],
        reclassifications: [],
        assigneeId: 'stf-iss-a-lia',
        escalations: [],
        seq,
      });
      const remind = (seq: number) =>
        acts.projectCase({
          snapshot: snapshot(seq),
          event: { seq, type: 'reminder', at: new Date().toISOString() },
          notifications: [{ kind: 'reminder', audience: 'assignee_and_backup', message: '即将到期' }],
        });
      const recipientsOf = async (seq: number) =>
        (await db.select().from(notifications))
          .filter((n) => n.id.startsWith(`case-liaison-backup:${seq}:`))
          .map((n) => n.recipientStaffId)
          .sort();

      await remind(1);
      expect(await recipientsOf(1)).toEqual(['stf-iss-a-lia']);
      await db.insert(staffAbsences).values({
        id: 'absence-liaison',
        staffId: 'stf-iss-a-lia',
        startsAt: new Date(now.getTime() - 60_000),
        endsAt: new Date(now.getTime() + 3600_000),
        reason: '外出培训',
        recordedBy: 'stf-admin',
      });
      await remind(2);
      expect(await recipientsOf(2)).toEqual(['stf-iss-a-lia', 'stf-iss-a2']);
    } finally {
      await database.dispose();
    }
  });
});
