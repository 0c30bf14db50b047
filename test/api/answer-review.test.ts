/**
 * 审核 (review before an answer goes out) through the API on the real dev server and database: a unit that
 * requires review keeps its issuer's answer as a sealed draft (202, the case still waits); only one of the unit's
 * leaders may approve (403 audited otherwise) — which sends exactly one answer, in the author's name — or return it
 * with a reason; a unit that does not require review answers at once.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerReviews, auditLog, caseEvents, staff } from '../../db/schema.ts';
import { type ApiHarness, createApiHarness, startBody } from '../support/api.ts';
import { databaseTargets } from '../support/databases.ts';
import { createDevServerEnv } from '../support/temporal.ts';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

describe.each(databaseTargets())('answer review (审核) on $name', (target) => {
  let h: ApiHarness;
  const auth: Record<string, string> = {};
  const run = `${target.name}-${Date.now()}`;
  beforeAll(async () => {
    h = await createApiHarness(env, target);
    // The issuing unit's liaison is its section chief (科室负责人).
    await h.database.db.update(staff).set({ isLeader: true }).where(eq(staff.id, 'stf-iss-a-lia'));
    for (const u of ['req-a', 'iss-a', 'iss-a2', 'iss-a-lia', 'iss-b-lia', 'admin'])
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
  let n = 0;
  async function registered(): Promise<string> {
    const started = await h.app.inject({
      method: 'POST',
      url: '/api/v1/verifications',
      headers: { authorization: auth['req-a'] ?? '', 'idempotency-key': `review-${run}-${++n}` },
      payload: startBody(),
    });
    expect(started.statusCode, started.body).toBe(201);
    const id = started.json().id;
    expect((await call('iss-a', 'POST', `/api/v1/verifications/${id}/register`, {})).statusCode).toBe(200);
    return id;
  }
  const respond = (id: string, who = 'iss-a') =>
    call(who, 'POST', `/api/v1/verifications/${id}/respond`, {
      result: 'consistent',
      fields: { registeredAddress: '淄博市张店区人民西路 1 号' },
    });
  const answersOf = async (id: string) =>
    (await h.database.db.select().from(caseEvents).where(eq(caseEvents.caseId, id))).filter(
      (e) => e.type === 'answered',
    );
  const denied = (actorId: string, action: string) =>
    h.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.actorId, actorId), eq(auditLog.action, action), eq(auditLog.outcome, 'denied')));

  it('not required: the answer goes out at once (200)', async () => {
    const id = await registered();
    const res = await respond(id);
    expect(res.statusCode, res.body).toBe(200);
    expect(await answersOf(id)).toHaveLength(1);
  });

  it('the setting: admin or the unit liaison sets it; another unit is refused (403 audited)', async () => {
    const other = await call('iss-b-lia', 'PUT', '/api/v1/units/ZB-GA/answer-review', { required: true });
    expect(other.statusCode).toBe(403);
    expect(await denied('stf-iss-b-lia', 'unit.answer_review')).not.toHaveLength(0);
    const bad = await call('admin', 'PUT', '/api/v1/units/ZB-GA/answer-review', { required: 'yes' });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json())).toContain('required');
    const ok = await call('iss-a-lia', 'PUT', '/api/v1/units/ZB-GA/answer-review', { required: true });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toEqual({ code: 'ZB-GA', answerReviewRequired: true });
  });

  it('required: a sealed draft (202), the leader sees it with the time left; return needs a reason; approval sends exactly one answer as the author', async () => {
    const id = await registered();
    const held = await respond(id);
    expect(held.statusCode, held.body).toBe(202);
    const review = held.json();
    expect(review).toMatchObject({
      caseId: id,
      status: 'pending',
      statusLabel: '待审核',
      author: { name: '郑伟' },
    });
    expect(await answersOf(id)).toHaveLength(0);
    const [stored] = await h.database.db.select().from(answerReviews).where(eq(answerReviews.id, review.id));
    expect(JSON.stringify(stored?.draft)).not.toContain('人民西路'); // sealed at rest
    // A second answer while one waits: 409.
    expect((await respond(id, 'iss-a2')).statusCode).toBe(409);

    const leaderList = (await call('iss-a-lia', 'GET', '/api/v1/answer-reviews')).json();
    expect(leaderList.reviewer).toBe(true);
    expect((await call('iss-a', 'GET', '/api/v1/answer-reviews')).json().reviewer).toBe(false);
    const queue = leaderList.items;
    const mine = queue.find((r: { id: string }) => r.id === review.id);
    expect(mine.fields).toEqual({ registeredAddress: '淄博市张店区人民西路 1 号' });
    expect(typeof mine.minutesLeft).toBe('number');
    expect(mine.dueInForce).toMatch(/Z$/);

    // Only the unit's reviewer: the author (not a leader) and another unit's liaison are refused, audited.
    expect((await call('iss-a', 'POST', `/api/v1/answer-reviews/${review.id}/approve`)).statusCode).toBe(403);
    expect(await denied('stf-iss-a', 'answer_review.approve')).not.toHaveLength(0);
    expect((await call('iss-b-lia', 'POST', `/api/v1/answer-reviews/${review.id}/approve`)).statusCode).toBe(
      403,
    );
    expect(await denied('stf-iss-b-lia', 'answer_review.approve')).not.toHaveLength(0);

    const noReason = await call('iss-a-lia', 'POST', `/api/v1/answer-reviews/${review.id}/return`, {});
    expect(noReason.statusCode).toBe(422);
    expect(noReason.json().detail).toBe('退回须说明理由');
    const returned = await call('iss-a-lia', 'POST', `/api/v1/answer-reviews/${review.id}/return`, {
      reason: '地址须与档案一致',
    });
    expect(returned.json()).toMatchObject({ status: 'returned', reason: '地址须与档案一致' });
    const authorView = (await call('iss-a', 'GET', '/api/v1/answer-reviews')).json().items;
    expect(authorView.find((r: { id: string }) => r.id === review.id)?.reason).toBe('地址须与档案一致');
    expect(await answersOf(id)).toHaveLength(0);

    const again = await respond(id);
    expect(again.statusCode).toBe(202);
    const approved = await call('iss-a-lia', 'POST', `/api/v1/answer-reviews/${again.json().id}/approve`);
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json()).toMatchObject({ status: 'approved', reviewerId: 'stf-iss-a-lia' });
    const twice = await call('iss-a-lia', 'POST', `/api/v1/answer-reviews/${again.json().id}/approve`);
    expect(twice.statusCode).toBe(409);
    const answers = await answersOf(id);
    expect(answers).toHaveLength(1);
    expect(answers[0]?.actorId).toBe('stf-iss-a');
    const reviewerAudit = await h.database.db
      .select()
      .from(auditLog)
      .where(
        and(
          eq(auditLog.action, 'answer_review.approve'),
          eq(auditLog.outcome, 'allowed'),
          eq(auditLog.caseId, id),
        ),
      );
    expect(reviewerAudit.map((a) => a.actorId)).toEqual(['stf-iss-a-lia']);
  });
});
