/**
 * The API's only way into Temporal for cases: deterministic workflow IDs, update-with-start for a
 * synchronous and idempotent "start", Updates for actions (the client's key as Update ID), and the
 * mapping of workflow refusals to HTTP problems. Route handlers never call Temporal directly.
 */
import { createHash } from 'node:crypto';
import {
  type Client,
  isGrpcCancelledError,
  isGrpcDeadlineError,
  WithStartWorkflowOperation,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import {
  ApplicationFailure,
  type UpdateDefinition,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from '@temporalio/common';
import { type AbsenceInput, absenceWorkflowId } from '../../workflows/absence-hand-over.ts';
import type { CalendarRetimeInput, calendarRetime, RetimeOutcome } from '../../workflows/calendar-retime.ts';
import { calendarRetimeWorkflowId } from '../../workflows/calendar-retime.ts';
import type {
  CalendarChangedInput,
  CaseInput,
  CaseSnapshot,
  HandOverInput,
} from '../../workflows/definitions.ts';
import {
  calendarChangedSignal,
  ENDED_STATUSES,
  handOverSignal,
  openedUpdate,
  snapshotQuery,
} from '../../workflows/definitions.ts';
import { conflict, forbidden, notFound, Problem, unprocessable } from '../problem.ts';
import { type BatchGateway, createBatchGateway } from './batch-gateway.ts';
import { type BulkGateway, createBulkGateway } from './bulk-gateway.ts';
import { type CatalogChangeGateway, createCatalogChangeGateway } from './catalog-change-gateway.ts';
import { type CommitmentGateway, createCommitmentGateway } from './commitment-gateway.ts';
import { type ComplaintGateway, createComplaintGateway } from './complaint-gateway.ts';
import { createDisputeGateway, type DisputeGateway } from './dispute-gateway.ts';

/** Same unit + same client key → same case. The key is hashed so any key is a valid workflow ID. */
export function caseWorkflowId(requestingUnit: string, idempotencyKey: string): string {
  const digest = createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32);
  return `case-${requestingUnit}-${digest}`;
}

const REFUSAL_STATUS: Record<string, (m: string) => Problem> = {
  'CaseRefusal.wrong_party': (m) => forbidden(m),
  'CaseRefusal.invalid_state': (m) => conflict(m, 'invalid_state'),
  'CaseRefusal.invalid_input': (m) => unprocessable(m),
};

/**
 * How long the API waits for a case to answer an Update (start included). Fastify's `requestTimeout`
 * (30 s, api/app.ts) bounds only the arrival of the request; this deadline bounds the wait on the case,
 * so the caller gets a clear 504 instead of a request hanging while no worker picks the case up (worker
 * down, case busy in a retrying activity).
 */
export const DEFAULT_UPDATE_TIMEOUT_MS = 20_000;

export const CASE_TIMEOUT = 'case_timeout';
export const caseTimeout = () =>
  new Problem(
    504,
    '处理超时',
    '协查系统未能在规定时间内完成此操作，操作可能尚未生效，也可能稍后生效。请稍后刷新查看；' +
      '如需重试，请使用相同的幂等键（Idempotency-Key），以免重复办理。如持续出现请联系管理员。',
    undefined,
    CASE_TIMEOUT,
  );

/** Temporal's answer → a problem the client can act on. Unknown failures stay 5xx (and are logged). */
export function toCaseProblem(err: unknown): unknown {
  if (
    err instanceof WorkflowUpdateRPCTimeoutOrCancelledError ||
    isGrpcDeadlineError(err) ||
    isGrpcCancelledError(err)
  )
    return caseTimeout();
  const cause = err instanceof WorkflowUpdateFailedError ? err.cause : err;
  if (cause instanceof ApplicationFailure && cause.type && REFUSAL_STATUS[cause.type]) {
    return REFUSAL_STATUS[cause.type]?.(cause.message);
  }
  // Temporal answers "not found" both for a case that never existed and for one whose workflow has
  // completed; which of the two it is, only the read model knows (see `withReadModel`).
  if (err instanceof WorkflowNotFoundError)
    return new Problem(404, '未找到', '未找到该协查', undefined, WORKFLOW_NOT_RUNNING);
  return err;
}

const WORKFLOW_NOT_RUNNING = 'workflow_not_running';
const CLOSED: readonly string[] = ENDED_STATUSES;

/**
 * The gateway as the routes use it: a refusal or a "not found" on a case the read model shows as
 * finished is a 409 `case_closed`, whatever Temporal's wording; a case the read model does not hold
 * stays a 404. The routes have already checked that the caller may see the case.
 */
export function withReadModel(
  gateway: CaseGateway,
  statusOf: (caseId: string) => Promise<string | undefined>,
): CaseGateway {
  return {
    ...gateway,
    act: async (caseId, update, input, updateId) => {
      try {
        return await gateway.act(caseId, update, input, updateId);
      } catch (err) {
        const gone = err instanceof Problem && err.code === WORKFLOW_NOT_RUNNING;
        const refused = err instanceof Problem && err.status === 409;
        if (!gone && !refused) throw err;
        const status = await statusOf(caseId);
        if (status && CLOSED.includes(status)) {
          const why = refused && !gone ? `：${(err as Problem).detail}` : '';
          throw conflict(`本案已办结，不能再办理此操作${why}`, 'case_closed');
        }
        if (gone) throw notFound('未找到该协查，或您无权查看');
        throw err;
      }
    },
  };
}

export interface CaseGateway
  extends BulkGateway,
    BatchGateway,
    DisputeGateway,
    CommitmentGateway,
    ComplaintGateway,
    CatalogChangeGateway {
  start(input: CaseInput, idempotencyKey: string): Promise<CaseSnapshot>;
  act<I>(
    caseId: string,
    update: UpdateDefinition<CaseSnapshot, [I]>,
    input: I,
    updateId?: string,
  ): Promise<CaseSnapshot>;
  snapshot(caseId: string): Promise<CaseSnapshot>;
  handOver(caseId: string, input: HandOverInput): Promise<void>;
  calendarChanged(caseId: string, input: CalendarChangedInput): Promise<void>;
  /** Runs the re-timing workflow of one calendar change (joins it if it runs, or reads its result if it ended). */
  retimeCalendar(input: CalendarRetimeInput): Promise<RetimeOutcome>;
  /** Starts the absence's workflow (hand-over at its start, hand-back at its end); a second call is a no-op. */
  scheduleAbsence(input: AbsenceInput): Promise<void>;
}

export interface CaseGatewayOptions {
  /** The deadline of each Update (and of the start), in milliseconds; default DEFAULT_UPDATE_TIMEOUT_MS. */
  updateTimeoutMs?: number;
}

export function createCaseGateway(
  client: Client,
  taskQueue: string,
  opts: CaseGatewayOptions = {},
): CaseGateway {
  const updateTimeoutMs = opts.updateTimeoutMs ?? DEFAULT_UPDATE_TIMEOUT_MS;
  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw toCaseProblem(err);
    }
  };
  /** Every gRPC call inside `fn` (sending the Update, polling for its outcome) ends by the deadline. */
  const withDeadline = <T>(fn: () => Promise<T>): Promise<T> =>
    call(() => client.withDeadline(Date.now() + updateTimeoutMs, fn));
  return {
    ...createBulkGateway(client, taskQueue),
    ...createBatchGateway(client, taskQueue),
    ...createDisputeGateway(client, taskQueue, toCaseProblem, updateTimeoutMs),
    ...createCommitmentGateway(client, taskQueue, withDeadline),
    ...createComplaintGateway(client, taskQueue, withDeadline),
    ...createCatalogChangeGateway(client, taskQueue, toCaseProblem),
    start: (input, idempotencyKey) =>
      withDeadline(async () => {
        const startOp = new WithStartWorkflowOperation('verificationCase', {
          workflowId: input.caseId,
          taskQueue,
          args: [input],
          // A retried start finds the running case instead of failing or making a second one…
          workflowIdConflictPolicy: 'USE_EXISTING',
          // …and a retry after the case has ended finds that case, never a new run with the same ID.
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        });
        return client.workflow
          .executeUpdateWithStart(openedUpdate, {
            startWorkflowOperation: startOp,
            updateId: `opened-${idempotencyKey}`,
          })
          .catch(async (err) => {
            if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
            return client.workflow.getHandle(input.caseId).query(snapshotQuery);
          });
      }),
    act: (caseId, update, input, updateId) =>
      withDeadline(() =>
        client.workflow
          .getHandle(caseId)
          .executeUpdate(update, { args: [input], ...(updateId ? { updateId } : {}) }),
      ),
    snapshot: (caseId) => call(() => client.workflow.getHandle(caseId).query<CaseSnapshot>('snapshot')),
    handOver: (caseId, input) => call(() => client.workflow.getHandle(caseId).signal(handOverSignal, input)),
    calendarChanged: (caseId, input) =>
      call(() => client.workflow.getHandle(caseId).signal(calendarChangedSignal, input)),
    retimeCalendar: async (input) => {
      const workflowId = calendarRetimeWorkflowId(input.retimeId);
      try {
        return await client.workflow.execute<typeof calendarRetime>('calendarRetime', {
          workflowId,
          taskQueue,
          args: [input],
          workflowIdConflictPolicy: 'USE_EXISTING',
          // A run that gave up (activity-options.ts: housekeeping retries are bounded) may run again.
          workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        return client.workflow.getHandle(workflowId).result();
      }
    },
    scheduleAbsence: async (input) => {
      try {
        await client.workflow.start('absenceHandOver', {
          workflowId: absenceWorkflowId(input.absenceId),
          taskQueue,
          args: [input],
          workflowIdConflictPolicy: 'USE_EXISTING',
          // A run that gave up (activity-options.ts: housekeeping retries are bounded) may run again.
          workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err; // it ran already
      }
    },
  };
}
