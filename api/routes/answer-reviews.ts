/**
 * Review before an answer goes out (审核, issue 16 item 4). A unit may require (units.answer_review_required) that
 * one of its leaders (staff.is_leader: 科室负责人) approves each answer before it is sent. Then the issuer's 提交反馈
 * stores a draft (sealed like case content) and answers 202; the reviewer approves — the API sends the case's own
 * respond Update in the author's name (exactly once: the Update ID is the review's) with the reviewer in the
 * audit log — or returns it to the author with a reason. The case workflow is unchanged: its SLA runs on, and the
 * reviewer's queue shows the working time left to the deadline in force.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { and, asc, eq, inArray } from 'drizzle-orm';
import { Type } from 'typebox';
import type { CalendarSource } from '../../activities/calendar-source.ts';
import { insertNotifications } from '../../activities/case-activities.ts';
import type { Db } from '../../db/client.ts';
import { answerReviews, cases, staff, units } from '../../db/schema.ts';
import type { ContentCipher } from '../../domain/content-cipher.ts';
import { workingMinutesBetween } from '../../domain/working-time/index.ts';
import { type Actor, type RespondInput, respondUpdate } from '../../workflows/definitions.ts';
import { type StaffContext, staffOf } from '../plugins/auth.ts';
import { conflict, forbidden, notFound, Problem, unprocessable } from '../problem.ts';
import { errorResponses } from '../schemas/common.ts';
import { claimAttachments } from '../services/attachment-claims.ts';
import { recordAudit } from '../services/audit.ts';
import { CASE_TIMEOUT, type CaseGateway } from '../services/case-gateway.ts';
import { type CaseRow, deadlineInForce, findCase } from '../services/case-reads.ts';
import { visibleCaseAs } from './verifications.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });

export const ReviewView = Type.Object({
  id: Type.String(),
  caseId: Type.String(),
  docNumber: Nullable(Type.String()),
  status: Type.String({ description: 'pending 待审核，approved 已通过（反馈已发出），returned 已退回' }),
  statusLabel: Type.String(),
  author: Type.Object({ id: Type.String(), name: Type.String() }),
  submittedAt: DateTime,
  result: Nullable(Type.String()),
  fields: Type.Record(Type.String(), Type.Unknown()),
  reviewerId: Nullable(Type.String()),
  reviewedAt: Nullable(DateTime),
  reason: Nullable(Type.String()),
  dueInForce: Nullable(DateTime),
  minutesLeft: Nullable(Type.Integer({ description: '距现行时限的剩余工作分钟（负数为已超时）' })),
});

const STATUS_LABELS: Record<string, string> = { pending: '待审核', approved: '已通过', returned: '已退回' };

type ReviewRow = typeof answerReviews.$inferSelect;
interface Draft {
  result: RespondInput['result'];
  fields: Record<string, unknown>;
  attachments: string[];
}

/** Whether the unit's answers need a leader's approval. */
export async function reviewRequired(db: Db, unitCode: string): Promise<boolean> {
  const [u] = await db
    .select({ required: units.answerReviewRequired })
    .from(units)
    .where(eq(units.code, unitCode));
  return u?.required === true;
}

async function viewOf(
  db: Db,
  cipher: ContentCipher,
  calendar: CalendarSource | undefined,
  r: ReviewRow,
  row?: CaseRow,
) {
  const c = row ?? (await findCase(db, r.caseId));
  const draft = cipher.open(r.caseId, r.draft) as unknown as Draft;
  const author = r.author as unknown as Actor;
  let minutesLeft: number | null = null;
  let dueInForce: string | null = null;
  if (c && !c.completedAt) {
    const due = deadlineInForce(c).dueAt;
    dueInForce = due.toISOString();
    if (calendar) {
      const { data } = await calendar.current();
      minutesLeft = Math.round(workingMinutesBetween(new Date(), due, data).minutes);
    }
  }
  return {
    id: r.id,
    caseId: r.caseId,
    docNumber: c?.docNumber ?? null,
    status: r.status,
    statusLabel: STATUS_LABELS[r.status] ?? r.status,
    author: { id: author.staffId, name: author.name },
    submittedAt: r.submittedAt.toISOString(),
    result: draft.result ?? null,
    fields: draft.fields ?? {},
    reviewerId: r.reviewerId,
    reviewedAt: r.reviewedAt?.toISOString() ?? null,
    reason: r.reason,
    dueInForce,
    minutesLeft,
  };
}

/**
 * The respond route's detour: when the caller's unit requires review, the answer (validated as the respond
 * action validates it) is kept as a draft and its view returned (202); otherwise undefined (send it now).
 */
export async function holdForReview(
  deps: { db: Db; contentCipher: ContentCipher },
  who: StaffContext,
  sourceIp: string,
  caseId: string,
  build: (row: CaseRow) => Promise<{
    actor: Actor;
    result: RespondInput['result'];
    fields: Record<string, unknown>;
    attachments?: string[];
  }>,
) {
  const { db, contentCipher } = deps;
  if (!(await reviewRequired(db, who.unitCode))) return undefined;
  const { row } = await visibleCaseAs(db, who, sourceIp, caseId, 'case.respond');
  // Not this unit's case to answer, or not in a state to answer: the case itself refuses as it always does.
  if (row.issuingUnit !== who.unitCode || row.status !== 'registered') return undefined;
  const [pending] = await db
    .select({ id: answerReviews.id })
    .from(answerReviews)
    .where(and(eq(answerReviews.caseId, caseId), eq(answerReviews.status, 'pending')));
  if (pending) throw conflict('本案已有一份待审核的反馈，请等待审核结果', 'review_pending');
  const input = await build(row);
  const draft: Draft = { result: input.result, fields: input.fields, attachments: input.attachments ?? [] };
  const [stored] = await db
    .insert(answerReviews)
    .values({
      id: `ar-${randomUUID()}`,
      caseId,
      unitCode: who.unitCode,
      draft: contentCipher.seal(caseId, draft as unknown as Record<string, unknown>) as unknown as Record<
        string,
        unknown
      >,
      author: input.actor as unknown as Record<string, unknown>,
      authorId: who.id,
      submittedAt: new Date(),
      status: 'pending',
    })
    .returning();
  if (!stored) throw new Problem(500, '保存失败', '保存失败');
  await recordAudit(db, {
    actorId: who.id,
    actorUnit: who.unitCode,
    action: 'case.respond.submitted_for_review',
    caseId,
    sourceIp,
    outcome: 'allowed',
    detail: { reviewId: stored.id },
  });
  const leaders = await db
    .select({ id: staff.id })
    .from(staff)
    .where(and(eq(staff.unitCode, who.unitCode), eq(staff.isLeader, true), eq(staff.active, true)));
  const eventKey = `review:${stored.id}:submitted`;
  await insertNotifications(
    db,
    leaders.map((l) => ({
      id: `${eventKey}:${l.id}`,
      eventKey,
      recipientKey: l.id,
      caseId,
      recipientStaffId: l.id,
      recipientUnit: null,
      kind: 'answer_review_pending',
      message: `协查 ${row.docNumber} 的反馈函待您审核（${input.actor.name} 提交）。`,
      createdAt: new Date(),
    })),
  );
  return viewOf(db, contentCipher, undefined, stored, row);
}

export const answerReviewRoutes: FastifyPluginAsyncTypebox<{
  db: Db;
  gateway: CaseGateway;
  contentCipher: ContentCipher;
  calendar: CalendarSource;
}> = async (app, { db, gateway, contentCipher, calendar }) => {
  const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

  /** The caller as the review's reviewer: a leader of the review's unit, or 403 (audited). */
  async function asReviewer(who: StaffContext, id: string, action: string, sourceIp: string) {
    const [r] = await db.select().from(answerReviews).where(eq(answerReviews.id, id));
    if (!r) throw notFound('未找到该待审核反馈');
    const [me] = await db.select({ isLeader: staff.isLeader }).from(staff).where(eq(staff.id, who.id));
    if (r.unitCode !== who.unitCode || !me?.isLeader) {
      await recordAudit(db, {
        actorId: who.id,
        actorUnit: who.unitCode,
        action,
        caseId: r.caseId,
        sourceIp,
        outcome: 'denied',
        detail: { reviewId: id, reason: 'not_the_units_reviewer' },
      });
      throw forbidden('只有本单位的负责人可以审核反馈');
    }
    return r;
  }

  app.put(
    '/api/v1/units/:code/answer-review',
    {
      schema: {
        tags: ['反馈审核'],
        summary: '设置本单位的反馈是否须经负责人审核后发出（管理员或本单位联络员）',
        security: [{ bearer: [] }],
        params: Type.Object({ code: Type.String({ minLength: 1, maxLength: 32 }) }),
        body: Type.Object({ required: Type.Boolean() }, { additionalProperties: false }),
        response: {
          200: Type.Object({ code: Type.String(), answerReviewRequired: Type.Boolean() }),
          ...errorResponses(403, 404, 415),
        },
      },
    },
    async (req) => {
      const who = staffOf(req);
      const allowed = who.role === 'admin' || (who.role === 'liaison' && who.unitCode === req.params.code);
      await recordAudit(db, {
        actorId: who.id,
        actorUnit: who.unitCode,
        action: 'unit.answer_review',
        sourceIp: req.ip,
        outcome: allowed ? 'allowed' : 'denied',
        detail: { unit: req.params.code, required: req.body.required },
      });
      if (!allowed) throw forbidden('只有管理员或本单位联络员可以设置反馈审核');
      const [u] = await db
        .update(units)
        .set({ answerReviewRequired: req.body.required })
        .where(eq(units.code, req.params.code))
        .returning({ code: units.code, answerReviewRequired: units.answerReviewRequired });
      if (!u) throw notFound('单位不存在');
      return u;
    },
  );

  app.get(
    '/api/v1/answer-reviews',
    {
      schema: {
        tags: ['反馈审核'],
        summary: '反馈审核：负责人看本单位待审核的反馈（含距现行时限的剩余工作时间），经办人看自己提交的',
        security: [{ bearer: [] }],
        response: {
          200: Type.Object({
            items: Type.Array(ReviewView),
            reviewer: Type.Boolean({ description: '当前用户是否为本单位负责人（可审核通过或退回）' }),
          }),
          ...errorResponses(403),
        },
      },
    },
    async (req) => {
      const who = staffOf(req);
      const [me] = await db.select({ isLeader: staff.isLeader }).from(staff).where(eq(staff.id, who.id));
      const rows = await db
        .select()
        .from(answerReviews)
        .where(
          me?.isLeader
            ? and(eq(answerReviews.unitCode, who.unitCode), eq(answerReviews.status, 'pending'))
            : and(eq(answerReviews.authorId, who.id), inArray(answerReviews.status, ['pending', 'returned'])),
        )
        .orderBy(asc(answerReviews.submittedAt));
      return {
        items: await Promise.all(rows.map((r) => viewOf(db, contentCipher, calendar, r))),
        reviewer: !!me?.isLeader,
      };
    },
  );

  app.post(
    '/api/v1/answer-reviews/:id/approve',
    {
      schema: {
        tags: ['反馈审核'],
        summary: '审核通过：以经办人的名义发出反馈（本单位负责人；审核人记入审计日志）',
        security: [{ bearer: [] }],
        params: IdParams,
        response: { 200: ReviewView, ...errorResponses(403, 404, 409, 422, 504) },
      },
    },
    async (req) => {
      const who = staffOf(req);
      const r = await asReviewer(who, req.params.id, 'answer_review.approve', req.ip);
      // Taken first, atomically: a second approval (a double click, a colleague) finds it taken and sends nothing.
      const [taken] = await db
        .update(answerReviews)
        .set({ status: 'approved', reviewerId: who.id, reviewedAt: new Date() })
        .where(and(eq(answerReviews.id, r.id), eq(answerReviews.status, 'pending')))
        .returning();
      if (!taken) throw conflict('该反馈已审核', 'review_decided');
      const draft = contentCipher.open(r.caseId, r.draft) as unknown as Draft;
      const author = r.author as unknown as Actor;
      const claim = await claimAttachments(
        db,
        r.unitCode,
        r.caseId,
        draft.attachments,
        '/body/attachments',
      ).catch(async (err) => {
        await db
          .update(answerReviews)
          .set({ status: 'pending', reviewerId: null, reviewedAt: null })
          .where(eq(answerReviews.id, r.id));
        throw err;
      });
      try {
        await gateway.act(
          r.caseId,
          respondUpdate,
          { actor: author, result: draft.result, fields: draft.fields, attachments: draft.attachments },
          `review-${r.id}`,
        );
      } catch (err) {
        if (err instanceof Problem && err.code !== CASE_TIMEOUT) {
          await claim.release();
          await db
            .update(answerReviews)
            .set({ status: 'pending', reviewerId: null, reviewedAt: null })
            .where(eq(answerReviews.id, r.id));
        }
        await recordAudit(db, {
          actorId: who.id,
          actorUnit: who.unitCode,
          action: 'answer_review.approve',
          caseId: r.caseId,
          sourceIp: req.ip,
          outcome: 'denied',
          detail: { reviewId: r.id, reason: err instanceof Problem ? err.detail : 'error' },
        });
        throw err;
      }
      await recordAudit(db, {
        actorId: who.id,
        actorUnit: who.unitCode,
        action: 'answer_review.approve',
        caseId: r.caseId,
        sourceIp: req.ip,
        outcome: 'allowed',
        detail: { reviewId: r.id, authorId: author.staffId },
      });
      await recordAudit(db, {
        actorId: author.staffId,
        actorUnit: author.unitCode,
        action: 'case.respond',
        caseId: r.caseId,
        sourceIp: req.ip,
        outcome: 'allowed',
        detail: { reviewId: r.id, reviewedBy: who.id },
      });
      return viewOf(db, contentCipher, calendar, taken);
    },
  );

  app.post(
    '/api/v1/answer-reviews/:id/return',
    {
      schema: {
        tags: ['反馈审核'],
        summary: '退回经办人修改（本单位负责人；须说明理由）',
        security: [{ bearer: [] }],
        params: IdParams,
        body: Type.Object(
          { reason: Type.Optional(Type.String({ maxLength: 1000 })) },
          { additionalProperties: false },
        ),
        response: { 200: ReviewView, ...errorResponses(403, 404, 409, 415, 422) },
      },
    },
    async (req) => {
      const who = staffOf(req);
      const r = await asReviewer(who, req.params.id, 'answer_review.return', req.ip);
      const reason = req.body.reason?.trim();
      if (!reason || reason.length < 2)
        throw unprocessable('退回须说明理由', [{ pointer: '/body/reason', detail: '请填写退回理由' }]);
      const [done] = await db
        .update(answerReviews)
        .set({ status: 'returned', reviewerId: who.id, reviewedAt: new Date(), reason })
        .where(and(eq(answerReviews.id, r.id), eq(answerReviews.status, 'pending')))
        .returning();
      if (!done) throw conflict('该反馈已审核', 'review_decided');
      await recordAudit(db, {
        actorId: who.id,
        actorUnit: who.unitCode,
        action: 'answer_review.return',
        caseId: r.caseId,
        sourceIp: req.ip,
        outcome: 'allowed',
        detail: { reviewId: r.id, reason },
      });
      const [c] = await db.select({ docNumber: cases.docNumber }).from(cases).where(eq(cases.id, r.caseId));
      const eventKey = `review:${r.id}:returned`;
      await insertNotifications(db, [
        {
          id: `${eventKey}:${r.authorId}`,
          eventKey,
          recipientKey: r.authorId,
          caseId: r.caseId,
          recipientStaffId: r.authorId,
          recipientUnit: null,
          kind: 'answer_review_returned',
          message: `协查 ${c?.docNumber ?? ''} 的反馈函被退回修改，理由：${reason}`,
          createdAt: new Date(),
        },
      ]);
      return viewOf(db, contentCipher, calendar, done);
    },
  );
};
