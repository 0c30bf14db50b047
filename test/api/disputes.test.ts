/**
 * Responsibility disputes (职责争议, Art. 7/11) through the API, with the real case and dispute workflows on the
 * time-skipping server: an issuing unit files a dispute on a case it holds, the office re-routes the case (it then
 * really sits in the other unit's inbox) or orders the unit to answer; the figures count both. Isolation like the
 * cases' (404 for a case or dispute one may not see, 403 for the wrong party, both audited), 400 naming the field,
 * 422 in Chinese (one open dispute per case, a reason, a target unit).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, notifications } from '../../db/schema.ts';
import { type ApiHarness, createApiHarness, startBody } from '../support/api.ts';
import { databaseTargets } from '../support/databases.ts';
import { createTimeSkippingEnv } from '../support/temporal.ts';

// biome-ignore lint/suspicious/noExplicitAny: the API's JSON answers, read loosely in assertions
type Json = any;

async function eventually<T>(probe: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      return await probe();
    } catch (err) {
      if (Date.now() - started > timeoutMs) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe.each(databaseTargets())('responsibility disputes through the API on $name', (target) => {
  let env: TestWorkflowEnvironment;
  let h: ApiHarness;
  const auth: Record<string, string> = {};
  let n = 0;
  const call = (who: string, method: 'GET' | 'POST', url: string, payload?: unknown) =>
    h.app.inject({
      method,
      url,
      headers: {
        authorization: auth[who] as string,
        ...(method === 'POST' ? { 'idempotency-key': `dispute-${target.name}-${Date.now()}-${++n}` } : {}),
      },
      ...(payload === undefined ? {} : { payload: payload as Json }),
    });
  const ok = async (who: string, method: 'GET' | 'POST', url: string, payload?: unknown) => {
    const res = await call(who, method, url, payload);
    expect(res.statusCode, `${who} ${method} ${url}: ${res.body}`).toBeLessThan(300);
    return res.json() as Json;
  };
  const audits = (action: string, outcome: string) =>
    h.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, action), eq(auditLog.outcome, outcome)));

  /** A case sent by 王芳 (ZB-RS) to the public security bureau (ZB-GA) and registered by 郑伟. */
  const sendCase = async () => {
    const res = await call('req-a', 'POST', '/api/v1/verifications', startBody());
    expect(res.statusCode, res.body).toBe(201);
    const c = res.json() as { id: string };
    await ok('iss-a', 'POST', `/api/v1/verifications/${c.id}/register`, {});
    return c.id;
  };

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    h = await createApiHarness(env, target);
    for (const who of ['req-a', 'iss-a', 'iss-a-lia', 'iss-b', 'office', 'admin', 'gov-review'])
      auth[who] = await h.login(who);
  }, 120_000);

  afterAll(async () => {
    await h?.close();
    await env?.teardown();
  });

  it('files, isolates, validates and re-routes: the case lands in the named unit’s inbox', async () => {
    const caseId = await sendCase();

    // Validation: 400 naming the field; 422 in Chinese for a blank reason or a unit that cannot issue.
    const missing = await call('iss-a', 'POST', '/api/v1/disputes', { caseId });
    expect(missing.statusCode).toBe(400);
    expect(JSON.stringify(missing.json().errors)).toContain('/body/reason');
    const blank = await call('iss-a', 'POST', '/api/v1/disputes', { caseId, reason: '  ' });
    expect(blank.statusCode).toBe(422);
    expect(blank.json().detail).toContain('请填写争议理由');
    const badUnit = await call('iss-a', 'POST', '/api/v1/disputes', {
      caseId,
      reason: '不属于本单位职责',
      suggestedUnit: 'ZB-SJ',
    });
    expect(badUnit.statusCode).toBe(422);
    expect(badUnit.json().errors[0].pointer).toBe('/body/suggestedUnit');

    // Isolation: another issuing unit cannot see the case (404); the requester is the wrong party (403).
    expect(
      (await call('iss-b', 'POST', '/api/v1/disputes', { caseId, reason: '不属于本单位职责' })).statusCode,
    ).toBe(404);
    const requester = await call('req-a', 'POST', '/api/v1/disputes', { caseId, reason: '不属于本单位职责' });
    expect(requester.statusCode).toBe(403);
    expect(requester.json().detail).toContain('出具单位');
    const deniedFiles = await audits('dispute.file', 'denied');
    expect(deniedFiles.filter((a) => a.caseId === caseId).map((a) => a.actorUnit)).toEqual(
      expect.arrayContaining(['ZB-MZ', 'ZB-RS']),
    );

    // 郑伟 files it; one open dispute per case.
    const filed = await ok('iss-a', 'POST', '/api/v1/disputes', {
      caseId,
      reason: '婚姻登记信息由民政部门掌握，不属于本单位职责',
      suggestedUnit: 'ZB-MZ',
    });
    expect(filed).toMatchObject({ caseId, unitCode: 'ZB-GA', status: 'open', statusLabel: '待裁定' });
    const again = await call('iss-a-lia', 'POST', '/api/v1/disputes', { caseId, reason: '重复提出的争议' });
    expect(again.statusCode).toBe(422);
    expect(again.json().detail).toContain('尚未裁定的职责争议');

    // The workflow worked out the office's deadline (2 working days) and told the office's supervisor.
    const withDue = await eventually(async () => {
      const d = await ok('office', 'GET', `/api/v1/disputes/${filed.id}`);
      expect(d.dueAt).toBeTruthy();
      return d;
    });
    expect(Date.parse(withDue.dueAt)).toBeGreaterThan(Date.parse(withDue.filedAt) + 24 * 3_600_000);
    const told = await h.database.db
      .select()
      .from(notifications)
      .where(and(eq(notifications.caseId, caseId), eq(notifications.kind, 'dispute_filed')));
    expect(told.map((t) => t.recipientStaffId)).toContain('stf-office');
    expect(told[0]?.message).toMatch(/\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}/);

    // Lists: the office sees it, the disputing unit sees it, the other unit neither lists nor opens it.
    expect(
      (await ok('office', 'GET', '/api/v1/disputes?status=undecided')).items.map((d: Json) => d.id),
    ).toContain(filed.id);
    expect((await ok('iss-a', 'GET', `/api/v1/disputes?caseId=${caseId}`)).items).toHaveLength(1);
    expect((await ok('iss-b', 'GET', '/api/v1/disputes')).items.map((d: Json) => d.id)).not.toContain(
      filed.id,
    );
    expect((await call('iss-b', 'GET', `/api/v1/disputes/${filed.id}`)).statusCode).toBe(404);
    expect((await call('gov-review', 'GET', '/api/v1/disputes')).statusCode).toBe(403);

    // Deciding: only the office (403, audited); 400 naming the field; 422 for a re-route without a unit.
    expect(
      (
        await call('iss-a', 'POST', `/api/v1/disputes/${filed.id}/decide`, {
          outcome: 'must_answer',
          reason: '自行裁定',
        })
      ).statusCode,
    ).toBe(403);
    expect((await audits('dispute.decide', 'denied')).some((a) => a.actorId === 'stf-iss-a')).toBe(true);
    const badOutcome = await call('office', 'POST', `/api/v1/disputes/${filed.id}/decide`, {
      outcome: 'maybe',
      reason: '裁定',
    });
    expect(badOutcome.statusCode).toBe(400);
    expect(JSON.stringify(badOutcome.json().errors)).toContain('/body/outcome');
    const noTarget = await call('office', 'POST', `/api/v1/disputes/${filed.id}/decide`, {
      outcome: 'reroute',
      reason: '改派民政局',
    });
    expect(noTarget.statusCode).toBe(422);
    expect(noTarget.json().errors[0].pointer).toBe('/body/targetUnit');

    const decided = await ok('office', 'POST', `/api/v1/disputes/${filed.id}/decide`, {
      outcome: 'reroute',
      targetUnit: 'ZB-MZ',
      reason: '经核，该证明由民政局出具',
    });
    expect(decided).toMatchObject({
      status: 'rerouted',
      outcome: 'reroute',
      targetUnit: 'ZB-MZ',
      decidedByName: '韩梅',
      decidedLate: false,
    });
    const twice = await call('office', 'POST', `/api/v1/disputes/${filed.id}/decide`, {
      outcome: 'must_answer',
      reason: '再次裁定',
    });
    expect(twice.statusCode).toBe(422);

    // The case really went to the civil affairs bureau: its inbox, its detail, and the new unit sees the dispute.
    const inbox = await eventually(async () => {
      const list = await ok('iss-b', 'GET', '/api/v1/verifications?box=inbox');
      expect(list.items.map((c: Json) => c.id)).toContain(caseId);
      return list;
    });
    expect(inbox.items.find((c: Json) => c.id === caseId)).toMatchObject({
      issuingUnit: 'ZB-MZ',
      status: 'awaiting_registration',
    });
    expect(
      (await ok('iss-a', 'GET', '/api/v1/verifications?box=inbox')).items.map((c: Json) => c.id),
    ).not.toContain(caseId);
    expect((await ok('iss-b', 'GET', `/api/v1/disputes/${filed.id}`)).status).toBe('rerouted');
    await ok('iss-b', 'POST', `/api/v1/verifications/${caseId}/register`, {});
  });

  it('must answer: the case stays with the unit; the figures count filed, upheld and rejected', async () => {
    const caseId = await sendCase();
    const filed = await ok('iss-a', 'POST', '/api/v1/disputes', { caseId, reason: '该事项不属于本单位职责' });
    await eventually(async () =>
      expect((await ok('office', 'GET', `/api/v1/disputes/${filed.id}`)).dueAt).toBeTruthy(),
    );
    const decided = await ok('office', 'POST', `/api/v1/disputes/${filed.id}/decide`, {
      outcome: 'must_answer',
      reason: '户籍信息由公安机关掌握，应予出具',
    });
    expect(decided).toMatchObject({
      status: 'must_answer',
      statusLabel: '已裁定由本单位办理',
      targetUnit: null,
    });
    const c = await ok('iss-a', 'GET', `/api/v1/verifications/${caseId}`);
    expect(JSON.stringify(c)).toContain('ZB-GA');
    expect(
      (await ok('iss-a', 'GET', '/api/v1/verifications?box=inbox')).items.map((x: Json) => x.id),
    ).toContain(caseId);
    const told = await h.database.db
      .select()
      .from(notifications)
      .where(and(eq(notifications.caseId, caseId), eq(notifications.kind, 'dispute_decided')));
    expect(told.map((t) => t.recipientStaffId)).toContain('stf-iss-a');

    // Art. 13 figures: per disputing unit, filed / upheld (re-routed) / rejected (must answer).
    const stats = await ok('office', 'GET', '/api/v1/stats/disputes');
    expect(stats.units.find((u: Json) => u.unit === 'ZB-GA')).toMatchObject({
      unitName: '淄博市公安局',
      filed: 2,
      upheld: 1,
      rejected: 1,
      open: 0,
    });
    expect((await call('iss-a', 'GET', '/api/v1/stats/disputes')).statusCode).toBe(403);
  });
  it('not decided in time: overdue in the read model, every office supervisor told, listed as overdue', async () => {
    const caseId = await sendCase();
    const filed = await ok('iss-a', 'POST', '/api/v1/disputes', { caseId, reason: '该事项不属于本单位职责' });
    const { dueAt } = await eventually(async () => {
      const d = await ok('office', 'GET', `/api/v1/disputes/${filed.id}`);
      expect(d.dueAt).toBeTruthy();
      return d;
    });
    // Past the office's deadline (2 working days) on the test server's clock.
    await env.sleep(Date.parse(dueAt) - (await env.currentTimeMs()) + 60_000);
    const overdue = await eventually(async () => {
      const d = await ok('office', 'GET', `/api/v1/disputes/${filed.id}`);
      expect(d.status).toBe('overdue');
      return d;
    });
    expect(overdue.statusLabel).toBe('逾期未裁定');
    expect(Date.parse(overdue.overdueAt)).toBeGreaterThanOrEqual(Date.parse(dueAt));
    const told = await h.database.db
      .select()
      .from(notifications)
      .where(and(eq(notifications.caseId, caseId), eq(notifications.kind, 'dispute_overdue')));
    expect(told.map((t) => t.recipientStaffId)).toEqual(['stf-office']);
    expect(told[0]?.message).toContain('职责争议逾期未裁定');
    expect(
      (await ok('office', 'GET', '/api/v1/disputes?status=overdue')).items.map((d: Json) => d.id),
    ).toContain(filed.id);
    // Still decidable, and marked late.
    const decided = await ok('office', 'POST', `/api/v1/disputes/${filed.id}/decide`, {
      outcome: 'must_answer',
      reason: '逾期后裁定：由本单位办理',
    });
    expect(decided).toMatchObject({ status: 'must_answer', decidedLate: true });
  });
});
