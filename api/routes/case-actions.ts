/**
 * One route per user action on a case. The API decides who may act (person, unit, role from the
 * database) and validates the content against the catalog's templates; the workflow's Update validator
 * then checks the case's state and refuses invalid transitions. The client's Idempotency-Key becomes
 * the Update ID, so a retried action is applied once. Every attempt, allowed or refused, is audited.
 */

import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, type UpdateDefinition } from '@temporalio/common';
import { eq, inArray } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Static, type TObject, Type } from 'typebox';
import type { Db } from '../../db/client.ts';
import { attachments, caseLedger, staff, units } from '../../db/schema.ts';
import type { CryptoProfile } from '../../domain/crypto-profile.ts';
import type {
  BulkActionName,
  BulkActivities,
  BulkCaseResult,
  BulkInput,
  BulkOutcome,
} from '../../workflows/bulk-action.ts';
import type { RespondInput } from '../../workflows/definitions.ts';
import {
  type Actor,
  applicantProofUpdate,
  type CaseSnapshot,
  closeAfterReturnUpdate,
  ENDED_STATUSES,
  reassignUpdate,
  reclassifyUpdate,
  recordOfflineUpdate,
  registerUpdate,
  rerouteUpdate,
  respondUpdate,
  returnUpdate,
  unclaimUpdate,
  urgeUpdate,
  withdrawUpdate,
} from '../../workflows/definitions.ts';
import { type StaffContext, staffOf } from '../plugins/auth.ts';
import { conflict, forbidden, notFound, Problem, unprocessable } from '../problem.ts';
import { ActionBodies, CaseSummary } from '../schemas/cases.ts';
import { errorResponses, IdempotencyHeaders } from '../schemas/common.ts';
import { liaisonRight } from '../services/acting-liaison.ts';
import { claimAttachments } from '../services/attachment-claims.ts';
import { bindAuditKey, recordAudit } from '../services/audit.ts';
import { bulkWorkflowId } from '../services/bulk-gateway.ts';
import {
  CASE_TIMEOUT,
  type CaseGateway,
  createCaseGateway,
  withReadModel,
} from '../services/case-gateway.ts';
import type { CaseRow } from '../services/case-reads.ts';
import { findCase, summary } from '../services/case-reads.ts';
import { catalogItemVersion, validateAgainst } from '../services/catalog.ts';
import { claimIdempotencyKey } from '../services/idempotency.ts';
import { type AppMetrics, countingGateway } from '../services/metrics.ts';
import { holdForReview, ReviewView } from './answer-reviews.ts';
import { actorOf, type CaseRouteDeps, caseRole, visibleCaseAs } from './verifications.ts';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
const BulkIds = Type.Array(Type.String({ minLength: 1, maxLength: 128 }), {
  minItems: 1,
  maxItems: 50,
  description: '协查编号，最多 50 个',
});
const BulkParams = Type.Object({
  id: Type.String({ pattern: '^bulk-[A-Za-z0-9_-]{1,100}$', description: '批量办理编号' }),
});
const BulkResult = Type.Object({
  id: Type.String({ description: '批量办理编号：GET /api/v1/verifications/bulk/{id} 查询进度和结果' }),
  idempotencyKey: Type.Optional(
    Type.String({ description: '本次请求的幂等键（请求未带 Idempotency-Key 时由服务器生成）：重试时带上它' }),
  ),
  state: Type.Union([Type.Literal('running'), Type.Literal('completed')], {
    description: 'running 办理中；completed 已全部办理',
  }),
  total: Type.Integer(),
  done: Type.Integer(),
  results: Type.Array(
    Type.Object({
      id: Type.String(),
      status: Type.Integer({ description: '单件办理时的 HTTP 状态：200 成功，其余为拒绝的原因类别' }),
      outcome: Type.Union([Type.Literal('ok'), Type.Literal('refused')]),
      detail: Type.Optional(Type.String({ description: '拒绝的原因' })),
      case: Type.Optional(CaseSummary),
    }),
    { description: '已办理的协查（按请求中的顺序）' },
  ),
});

/** How long a bulk request waits for its workflow before answering 202 (`Prefer: wait=N` asks for less). */
export const BULK_WAIT_MS = 20_000;

/** RFC 7240 `Prefer: wait=N` (seconds), capped at BULK_WAIT_MS. */
function bulkWait(req: FastifyRequest): number {
  const prefer = req.headers.prefer;
  const match = typeof prefer === 'string' ? /(?:^|[,;\s])wait=(\d+)/.exec(prefer) : null;
  return match ? Math.min(Number(match[1]) * 1000, BULK_WAIT_MS) : BULK_WAIT_MS;
}

/** "B acting for A": the actor is the A/B partner of the case's current assignee. */
async function actorFor(db: Db, who: StaffContext, row: CaseRow): Promise<Actor> {
  const actor: Actor = actorOf(who);
  if (row.assigneeId && row.assigneeId !== who.id && row.issuingUnit === who.unitCode) {
    const [assignee] = await db
      .select({ partnerId: staff.partnerId })
      .from(staff)
      .where(eq(staff.id, row.assigneeId));
    if (assignee?.partnerId === who.id) actor.onBehalfOf = row.assigneeId;
  }
  return actor;
}

/** Actions whose body cites uploaded files: they are bound to the case before the action is sent. */
const CITES_ATTACHMENTS = new Set(['respond', 'applicant-proof']);

/**
 * The attachment ids an action cites must be files the caller's unit uploaded and that no other case
 * cites yet; otherwise 422 naming each failing `/body/attachments/i`. Duplicates are cited once.
 */
async function citableAttachments(
  db: Db,
  who: StaffContext,
  row: CaseRow,
  cited: string[] | undefined,
): Promise<string[]> {
  const ids = cited ?? [];
  if (!ids.length) return [];
  const found = await db
    .select({ id: attachments.id, uploaderUnit: attachments.uploaderUnit, caseId: attachments.caseId })
    .from(attachments)
    .where(inArray(attachments.id, ids));
  const errors = ids.flatMap((id, i) => {
    const f = found.find((x) => x.id === id);
    // Another unit's file is reported as missing: nobody learns that it exists.
    if (!f || f.uploaderUnit !== who.unitCode)
      return [{ pointer: `/body/attachments/${i}`, detail: '附件不存在或不是本单位上传的' }];
    if (f.caseId && f.caseId !== row.id)
      return [{ pointer: `/body/attachments/${i}`, detail: '该附件已用于另一件协查' }];
    return [];
  });
  if (errors.length) throw unprocessable('附件不存在、不是本单位上传的或已用于另一件协查', errors);
  return [...new Set(ids)];
}

interface ActionSpec<B extends TObject, I> {
  name: string;
  summary: string;
  body: B;
  update: UpdateDefinition<CaseSnapshot, [I]>;
  /** Extra checks that need the database, then the Update's argument. */
  build(ctx: { db: Db; body: Static<B>; who: StaffContext; row: CaseRow; actor: Actor }): Promise<I> | I;
}

const spec = <B extends TObject, I>(s: ActionSpec<B, I>) => s;

const ACTIONS = [
  spec({
    name: 'register',
    summary: '登记受理（出具单位；同时指定本人为承办人）',
    body: ActionBodies.register,
    update: registerUpdate,
    build: ({ actor }) => ({ actor }),
  }),
  spec({
    name: 'respond',
    summary: '反馈（反馈函）',
    body: ActionBodies.respond,
    update: respondUpdate,
    build: async ({ db, body, who, row, actor }) => {
      const item = await catalogItemVersion(db, row.catalogCode, row.catalogVersion);
      const errors = item ? validateAgainst(item.responseSchema, body.fields, '/body/fields') : [];
      if (errors.length)
        throw unprocessable(`反馈函内容不符合模板：${errors.map((e) => e.detail).join('；')}`, errors);
      // Checked here (clear messages); bound to the case atomically by perform() (attachment-claims.ts).
      const ids = await citableAttachments(db, who, row, body.attachments);
      return { actor, result: body.result, fields: body.fields, attachments: ids };
    },
  }),
  spec({
    name: 'return',
    summary: '退回（非本单位职责，须说明理由）',
    body: ActionBodies.return,
    update: returnUpdate,
    build: ({ body, actor }) => ({ actor, reason: body.reason, suggestedUnit: body.suggestedUnit }),
  }),
  spec({
    name: 'reroute',
    summary: '改派给另一出具单位（被退回后）',
    body: ActionBodies.reroute,
    update: rerouteUpdate,
    build: async ({ db, body, actor }) => {
      const [unit] = await db.select().from(units).where(eq(units.code, body.issuingUnit));
      if (!unit?.canIssue)
        throw unprocessable('该单位不是出具单位', [
          { pointer: '/body/issuingUnit', detail: '单位不存在或不出具证明' },
        ]);
      return { actor, issuingUnit: body.issuingUnit, note: body.note };
    },
  }),
  spec({
    name: 'close',
    summary: '被退回后办结关闭',
    body: ActionBodies.close,
    update: closeAfterReturnUpdate,
    build: ({ body, actor }) => ({ actor, reason: body.reason }),
  }),
  spec({
    name: 'reclassify',
    summary: '调整时限档次（只能上调，须说明理由）',
    body: ActionBodies.reclassify,
    update: reclassifyUpdate,
    build: ({ body, actor }) => ({ actor, tier: body.tier, reason: body.reason }),
  }),
  spec({
    name: 'urge',
    summary: '催办',
    body: ActionBodies.urge,
    update: urgeUpdate,
    build: ({ body, actor }) => ({ actor, reason: body.reason ?? '' }),
  }),
  spec({
    name: 'withdraw',
    summary: '撤回',
    body: ActionBodies.withdraw,
    update: withdrawUpdate,
    build: ({ body, actor }) => ({ actor, reason: body.reason }),
  }),
  spec({
    name: 'unclaim',
    summary: '取消认领：承办人（或本单位联络员）把已登记受理的任务交回本单位待认领',
    body: ActionBodies.unclaim,
    update: unclaimUpdate,
    build: async ({ db, body, who, row, actor }) => {
      // Someone else's case (and not as their B partner): only a liaison, or the backup liaison while every
      // liaison is absent, may take it back.
      const own = row.assigneeId === who.id || (!!row.assigneeId && actor.onBehalfOf === row.assigneeId);
      if (row.assigneeId && !own && who.unitCode === row.issuingUnit && who.role !== 'liaison') {
        const right = await liaisonRight(db, who);
        if (!right.ok) throw forbidden('只有本案承办人或本单位联络员可以取消认领');
        actor.actingAsLiaison = true;
        if (right.onBehalfOf) actor.onBehalfOf = right.onBehalfOf;
      }
      return { actor, reason: body.reason };
    },
  }),
  spec({
    name: 'offline',
    summary: '登记线下核验（传真、OA、邮件、实地核查，第三条）',
    body: ActionBodies.offline,
    update: recordOfflineUpdate,
    build: ({ body, actor }) => ({ actor, channel: body.channel, note: body.note, result: body.result }),
  }),
  spec({
    name: 'applicant-proof',
    summary: '申请人自行提交证明材料（第九条）',
    body: ActionBodies.applicantProof,
    update: applicantProofUpdate,
    // Art. 9: the unit keeps a record of what the applicant brought, with the file itself if scanned.
    build: async ({ db, body, who, row, actor }) => {
      const ids = await citableAttachments(db, who, row, body.attachments);
      return { actor, note: body.note, ...(ids.length ? { attachments: ids } : {}) };
    },
  }),
  spec({
    name: 'reassign',
    summary: '转派给本单位另一承办人（联络员）',
    body: ActionBodies.reassign,
    update: reassignUpdate,
    build: async ({ db, body, who, row, actor }) => {
      // Who may reassign comes before whom to: otherwise another unit learns about this unit's staff.
      // The backup liaison may while every liaison of the unit is absent ("B acting for A").
      const right = who.unitCode === row.issuingUnit ? await liaisonRight(db, who) : { ok: false };
      if (!right.ok) throw forbidden('只有本案出具单位的联络员（联络员缺岗时为联络员B角）可以转派');
      if (who.role !== 'liaison') {
        actor.actingAsLiaison = true;
        if (right.onBehalfOf) actor.onBehalfOf = right.onBehalfOf;
      }
      const [target] = await db.select().from(staff).where(eq(staff.id, body.toStaffId));
      if (
        !target ||
        target.unitCode !== who.unitCode ||
        !['agent', 'liaison'].includes(target.role) ||
        !target.active
      ) {
        throw unprocessable('只能转派给本单位在岗的经办人或联络员', [
          { pointer: '/body/toStaffId', detail: '不是本单位的承办人' },
        ]);
      }
      return { actor, toStaffId: body.toStaffId, reason: body.reason };
    },
  }),
];

/**
 * Audits an action. Refusals before anything changes are one `denied` row. An action that changes
 * something (a workflow Update, a ledger row) calls `attempt()` right before: that writes an `attempted`
 * row first, and the outcome row after (`allowed`, `denied` when the workflow refused, `error` when the
 * outcome is unknown) names it in `detail.attemptId`. The Update cannot share a database transaction
 * with the audit log, so this order is what guarantees that a crash between the two still leaves an
 * attributable row: the `attempted` one without an outcome, which an operator can look up
 * (`GET /audit?outcome=attempted`) and compare with the case's timeline.
 */
async function audited<T>(
  db: Db,
  sourceIp: string,
  who: StaffContext,
  row: CaseRow,
  action: string,
  fn: (attempt: () => Promise<void>) => Promise<T>,
): Promise<T> {
  const base = {
    actorId: who.id,
    actorUnit: who.unitCode,
    action,
    caseId: row.id,
    purpose: row.purpose,
    sourceIp,
  };
  let attemptId: number | undefined;
  const attempt = async () => {
    attemptId = await recordAudit(db, { ...base, outcome: 'attempted' });
  };
  const ref = () => (attemptId === undefined ? {} : { attemptId });
  try {
    const result = await fn(attempt);
    await recordAudit(db, { ...base, outcome: 'allowed', detail: ref() });
    return result;
  } catch (err) {
    // A timed-out Update is no refusal: its outcome is unknown (the case may still apply it).
    if (err instanceof Problem && err.code !== CASE_TIMEOUT)
      await recordAudit(db, {
        ...base,
        outcome: 'denied',
        detail: { status: err.status, reason: err.detail, ...ref() },
      });
    else if (attemptId !== undefined)
      await recordAudit(db, {
        ...base,
        outcome: 'error',
        detail: {
          error: err instanceof Problem ? err.code : ((err as Error)?.name ?? 'Error'),
          ...ref(),
        },
      }).catch(() => {});
    throw err;
  }
}

type CaseAction = (typeof ACTIONS)[number];

/** Who acts, outside or inside an HTTP request. */
interface Acting {
  who: StaffContext;
  sourceIp: string;
}

/**
 * One action on one case, as `acting`. `updateId` is asked for only once the request is known to be valid (a
 * refused request leaves no idempotency key behind): the route's derives from the client's key, a bulk action's
 * from the bulk ID and the case ID.
 */
async function performAs(
  db: Db,
  gateway: CaseGateway,
  acting: Acting,
  a: CaseAction,
  caseId: string,
  body: unknown,
  updateId: (who: StaffContext) => Promise<string>,
) {
  const { row, who } = await visibleCaseAs(db, acting.who, acting.sourceIp, caseId, `case.${a.name}`);
  const updated = await audited(db, acting.sourceIp, who, row, `case.${a.name}`, async (attempt) => {
    const actor = await actorFor(db, who, row);
    const input = await a.build({ db, body: body as never, who, row, actor });
    const cited = CITES_ATTACHMENTS.has(a.name)
      ? ((body as { attachments?: string[] }).attachments ?? [])
      : [];
    const claim = await claimAttachments(db, who.unitCode, row.id, cited, '/body/attachments');
    try {
      const id = await updateId(who);
      await attempt();
      await gateway.act(row.id, a.update as UpdateDefinition<CaseSnapshot, [unknown]>, input, id);
    } catch (err) {
      // A refusal leaves the files free; an unknown outcome (the answer may be in) keeps them bound.
      if (err instanceof Problem && err.code !== CASE_TIMEOUT) await claim.release();
      throw err;
    }
    return findCase(db, row.id);
  });
  return summary(updated ?? row);
}

/**
 * The bulk action workflow's activity (workflows/bulk-action.ts): one case's action as the liaison who asked,
 * audited like a single action, sent as an Update whose ID derives from the bulk ID and the case ID, so a retried
 * activity (or a repeated bulk request) applies it once. A refusal is the case's outcome, not a failure. The
 * Update goes through the worker's own client.
 */
export function createBulkActivities({
  db,
  auditKey,
  metrics,
  cryptoProfile,
}: {
  db: Db;
  auditKey: Buffer;
  /** The process's metrics: a bulk batch's Updates count as the API's own do. */
  metrics?: AppMetrics;
  cryptoProfile?: CryptoProfile;
}): BulkActivities {
  // Its audit rows are chained like the API's (a worker process has no API to bind the key).
  bindAuditKey(db, auditKey, cryptoProfile);
  const statusOf = async (id: string) => (await findCase(db, id))?.status;
  return {
    async applyBulkAction({ bulkId, action, caseId, body, actor, sourceIp }) {
      const a = ACTIONS.find((x) => x.name === action);
      if (!a || !BULK_ACTIONS.includes(action))
        throw ApplicationFailure.nonRetryable(`no bulk action ${action}`, 'UnknownBulkAction');
      const direct = createCaseGateway(Context.current().client, '');
      const gateway = withReadModel(metrics ? countingGateway(direct, metrics) : direct, statusOf);
      try {
        await performAs(
          db,
          gateway,
          { who: actor, sourceIp },
          a,
          caseId,
          body,
          async () => `${a.name}-${bulkId}-${caseId}`,
        );
        return { id: caseId, status: 200, outcome: 'ok' };
      } catch (err) {
        if (err instanceof Problem)
          return { id: caseId, status: err.status, outcome: 'refused', detail: err.detail };
        throw err;
      }
    },
  };
}

const BULK_ACTIONS: readonly BulkActionName[] = ['register', 'reassign'];

/**
 * When the requesting unit may keep ledger entries (台账), Art. 8:
 * - ¶1–2: after an answer that does not match the declaration (inconsistent, partial) it asks the
 *   applicant for supplementary material and must keep a ledger record;
 * - ¶3: when department verification cannot give the proof (not_found, the issuing unit returned it and
 *   the requester closed it, it was withdrawn, or verified offline/on site), the unit may verify on site
 *   itself and records that check here.
 * A consistent answer may still need a note (e.g. material received anyway), so any answer qualifies, as
 * does any ended case. Only a case still with an issuing unit, or returned and awaiting re-routing, is
 * refused: department verification has not failed yet.
 */
function ledgerApplies(row: CaseRow): boolean {
  return row.result !== null || ENDED_STATUSES.includes(row.status);
}

export const caseActionRoutes: FastifyPluginAsyncTypebox<CaseRouteDeps> = async (
  app,
  { db, gateway, contentCipher },
) => {
  for (const a of ACTIONS) {
    app.post(
      `/api/v1/verifications/:id/${a.name}`,
      {
        schema: {
          tags: ['协查办理'],
          summary: a.summary,
          security: [{ bearer: [] }],
          params: IdParams,
          headers: IdempotencyHeaders,
          body: a.body,
          response: {
            200: CaseSummary,
            // 审核: the unit requires a leader's approval first; the answer waits as a draft.
            ...(a.name === 'respond' ? { 202: ReviewView } : {}),
            ...errorResponses(403, 404, 409, 413, 415, 422, 504),
          },
        },
      },
      async (req, reply) => {
        if (a.name === 'respond') {
          const who = staffOf(req);
          const held = await holdForReview(
            { db, contentCipher },
            who,
            req.ip,
            req.params.id,
            async (row) =>
              // The respond action's own checks (template, attachments): the same input it would send.
              (await a.build({
                db,
                body: req.body as never,
                who,
                row,
                actor: await actorFor(db, who, row),
              })) as RespondInput,
          );
          if (held) return reply.code(202).send(held);
        }
        return performAs(
          db,
          gateway,
          { who: staffOf(req), sourceIp: req.ip },
          a,
          req.params.id,
          req.body,
          async (who) => `${a.name}-${(await claimIdempotencyKey(db, req, who)).key}`,
        );
      },
    );
  }

  // A liaison registers or reassigns a selection of the unit's cases at once, through a `bulkAction` workflow
  // (one per unit and Idempotency-Key: a repeated request joins it and applies nothing again). Each case is its
  // own action (audited, validated by its workflow); one refusal does not stop the others. The request waits
  // for the outcome up to BULK_WAIT_MS, then answers 202 with where to read it.
  const BULK = [
    {
      name: 'register',
      body: Type.Object({ ids: BulkIds }, { additionalProperties: false }),
      summary: '批量登记受理（联络员）',
    },
    {
      name: 'reassign',
      body: Type.Object(
        {
          ids: BulkIds,
          toStaffId: Type.String({ minLength: 1, maxLength: 64 }),
          reason: Type.Optional(Type.String({ maxLength: 500 })),
        },
        { additionalProperties: false },
      ),
      summary: '批量转派（联络员）',
    },
  ] as const;

  /** The outcome as the API answers it: the done cases with their summaries from the read model. */
  const bulkView = async (outcome: BulkOutcome, idempotencyKey?: string) => ({
    id: outcome.bulkId,
    ...(idempotencyKey ? { idempotencyKey } : {}),
    state: outcome.state,
    total: outcome.total,
    done: outcome.done,
    results: await Promise.all(
      outcome.results.map(async (r: BulkCaseResult) => {
        const row = r.outcome === 'ok' ? await findCase(db, r.id) : undefined;
        return { ...r, ...(row ? { case: summary(row) } : {}) };
      }),
    ),
  });
  const location = (bulkId: string) => `/api/v1/verifications/bulk/${bulkId}`;

  for (const b of BULK) {
    app.post(
      `/api/v1/verifications/bulk/${b.name}`,
      {
        schema: {
          tags: ['协查办理'],
          summary: `${b.summary}；同一幂等键的重复请求不再重复办理。最多等待 20 秒（可用 Prefer: wait=N 缩短），未办完时答 202，到 Location 查询结果`,
          security: [{ bearer: [] }],
          headers: IdempotencyHeaders,
          body: b.body,
          response: { 200: BulkResult, 202: BulkResult, ...errorResponses(403, 413, 415, 422) },
        },
      },
      async (req, reply: FastifyReply) => {
        const who = staffOf(req);
        if (!(await liaisonRight(db, who)).ok)
          throw forbidden('只有联络员（联络员缺岗时为联络员B角）可以批量办理');
        const { key } = await claimIdempotencyKey(db, req, who);
        const { ids, ...rest } = req.body as { ids: string[] } & Record<string, unknown>;
        const input: BulkInput = {
          bulkId: bulkWorkflowId(who.unitCode, key),
          unitCode: who.unitCode,
          action: b.name,
          caseIds: [...new Set(ids)],
          body: rest,
          actor: {
            id: who.id,
            username: who.username,
            name: who.name,
            unitCode: who.unitCode,
            unitKind: who.unitKind,
            role: caseRole(who),
            partnerId: who.partnerId,
            isDemo: who.isDemo,
            mustChangePassword: who.mustChangePassword,
          },
          sourceIp: req.ip,
        };
        reply.header('idempotency-key', key);
        const outcome = await gateway.runBulk(input, bulkWait(req));
        if (outcome) return bulkView(outcome, key);
        const progress = await gateway.bulkStatus(input.bulkId);
        reply.code(202).header('location', location(input.bulkId));
        return bulkView(
          progress ?? { ...input, state: 'running', total: input.caseIds.length, done: 0, results: [] },
          key,
        );
      },
    );
  }

  app.get(
    '/api/v1/verifications/bulk/:id',
    {
      schema: {
        tags: ['协查办理'],
        summary: '批量办理的进度和结果（仅本单位）',
        security: [{ bearer: [] }],
        params: BulkParams,
        response: { 200: BulkResult, ...errorResponses(403, 404) },
      },
    },
    async (req) => {
      const who = staffOf(req);
      const outcome = await gateway.bulkStatus(req.params.id);
      // Another unit's bulk request is reported as missing: nobody learns that it exists.
      if (!outcome || outcome.unitCode !== who.unitCode) throw notFound('未找到该批量办理，或您无权查看');
      return bulkView(outcome);
    },
  );

  app.post(
    '/api/v1/verifications/:id/ledger',
    {
      schema: {
        tags: ['协查办理'],
        summary: '记录台账（第八条：核验不一致时要求补正、无法通过部门核验时实地核查）；反馈后或办结后可记录',
        security: [{ bearer: [] }],
        params: IdParams,
        body: ActionBodies.ledger,
        response: { 201: Type.Object({ id: Type.String() }), ...errorResponses(403, 404, 409, 415, 422) },
      },
    },
    async (req, reply) => {
      const { row, who } = await visibleCaseAs(db, staffOf(req), req.ip, req.params.id, 'case.ledger');
      return audited(db, req.ip, who, row, 'case.ledger', async (attempt) => {
        if (who.unitCode !== row.requestingUnit) throw forbidden('只有需求单位可以记录台账');
        if (!ledgerApplies(row)) {
          throw conflict(
            '协查仍在办理中：出具单位反馈后，或协查办结（含被退回后关闭、撤回、线下核验）后才能记录台账',
            'ledger_not_applicable',
          );
        }
        const id = randomUUID();
        await attempt();
        await db.insert(caseLedger).values({
          id,
          caseId: row.id,
          kind: req.body.kind,
          note: req.body.note,
          outcome: req.body.outcome ?? null,
          recordedBy: who.id,
          recordedUnit: who.unitCode,
        });
        return reply.code(201).send({ id });
      });
    },
  );
};
