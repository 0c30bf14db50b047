/**
 * Repair of the read model from the workflows (`npm run cases:reconcile`). The workflow is the case's
 * truth; the `cases` row is its projection, and it can drift: a row deleted or edited by hand, a
 * projection lost to a bug, a workflow terminated or timed out by an operator (its row stays open
 * forever). This compares both sides and repairs the row:
 *
 * - every running case workflow (Temporal visibility) is asked for its snapshot; a row that is missing
 *   or differs in status, issuing unit or due time is written again from the snapshot;
 * - every open row whose workflow is not running: a completed workflow's result is projected; a
 *   terminated, timed-out, failed or missing one closes the row as 已终止 (`terminated`), with an event
 *   on the case's timeline.
 *
 * Each repair and the run itself are audited under the operator who ran it (Art. 10).
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { and, eq, inArray, max } from 'drizzle-orm';
import { reprojectCase } from '../../activities/case-activities.ts';
import type { Db } from '../../db/client.ts';
import { caseEvents, cases, staff } from '../../db/schema.ts';
import type { ContentCipher } from '../../domain/content-cipher.ts';
import {
  type CaseInput,
  type CaseSnapshot,
  snapshotQuery,
  TERMINATED_STATUS,
} from '../../workflows/definitions.ts';
import { recordAudit } from './audit.ts';

export const CASE_WORKFLOW_TYPE = 'verificationCase';
const OPEN_STATUSES = ['awaiting_registration', 'registered', 'returned'];
/** How long one query or describe may take: a case no worker serves is reported, not waited on. */
const CALL_TIMEOUT_MS = 10_000;

export interface ReconcileDeps {
  db: Db;
  client: Client;
  subjectKey: Buffer;
  contentCipher: ContentCipher;
}

export interface ReconcileOptions {
  /** The operator's staff ID: the audit rows name them. */
  by: string;
  /** Report only: nothing is written (no repair, no audit row). */
  dryRun?: boolean;
  /** Only the case workflows of this task queue (the system's; tests share one Temporal server). */
  taskQueue?: string;
}

export interface Difference {
  caseId: string;
  /** `missing`: no row; `differs`: the fields that differ; `completed`: the workflow's final result. */
  kind: 'missing' | 'differs' | 'completed';
  fields?: string[];
}

export interface Closure {
  caseId: string;
  /** What Temporal says of the workflow: TERMINATED, TIMED_OUT, FAILED, CANCELLED, or NOT_FOUND. */
  execution: string;
}

export interface ReconcileReport {
  dryRun: boolean;
  /** Running case workflows and open rows looked at. */
  checked: number;
  repaired: Difference[];
  closed: Closure[];
  /** Cases that could not be compared (e.g. a query no worker answered); nothing was written for them. */
  skipped: { caseId: string; reason: string }[];
}

const EXECUTION_LABEL: Record<string, string> = {
  TERMINATED: '流程已被终止',
  TIMED_OUT: '流程已超时结束',
  FAILED: '流程已失败结束',
  CANCELLED: '流程已取消',
  NOT_FOUND: '流程不存在',
};

export async function reconcileCases(deps: ReconcileDeps, opts: ReconcileOptions): Promise<ReconcileReport> {
  const { db, client } = deps;
  const [operator] = await db
    .select({ id: staff.id, unitCode: staff.unitCode })
    .from(staff)
    .where(eq(staff.id, opts.by));
  if (!operator) throw new Error(`unknown staff id ${opts.by} (--by)`);
  const report: ReconcileReport = {
    dryRun: Boolean(opts.dryRun),
    checked: 0,
    repaired: [],
    closed: [],
    skipped: [],
  };
  const audit = async (caseId: string | null, detail: Record<string, unknown>) =>
    recordAudit(db, {
      actorId: operator.id,
      actorUnit: operator.unitCode,
      action: caseId ? 'case.reconcile' : 'cases.reconcile',
      caseId,
      purpose: '读模型对账修复',
      outcome: 'allowed',
      detail,
    });
  const bounded = <T>(fn: () => Promise<T>) => client.withDeadline(Date.now() + CALL_TIMEOUT_MS, fn);

  // 1. Running workflows against their rows.
  const running = new Set<string>();
  const query = [
    `WorkflowType = '${CASE_WORKFLOW_TYPE}'`,
    `ExecutionStatus = 'Running'`,
    ...(opts.taskQueue ? [`TaskQueue = '${opts.taskQueue.replaceAll("'", "''")}'`] : []),
  ].join(' AND ');
  const executions: WorkflowExecutionInfo[] = [];
  for await (const execution of client.workflow.list({ query })) executions.push(execution);
  for (const execution of executions) {
    const caseId = execution.workflowId;
    running.add(caseId);
    report.checked++;
    const handle = client.workflow.getHandle(caseId, execution.runId);
    let snapshot: CaseSnapshot;
    try {
      snapshot = await bounded(() => handle.query(snapshotQuery));
    } catch (err) {
      report.skipped.push({ caseId, reason: `snapshot query failed: ${(err as Error).message}` });
      continue;
    }
    const [row] = await db.select().from(cases).where(eq(cases.id, caseId));
    const fields = row ? differences(row, snapshot) : [];
    if (row && !fields.length) continue;
    const difference: Difference = row ? { caseId, kind: 'differs', fields } : { caseId, kind: 'missing' };
    report.repaired.push(difference);
    if (opts.dryRun) continue;
    const input = row ? undefined : await bounded(() => requestOf(client, caseId, execution.runId));
    await reprojectCase(db, deps, { snapshot, runId: execution.runId, input });
    await audit(caseId, { ...difference, runId: execution.runId, seq: snapshot.seq });
  }

  // 2. Open rows whose workflow is not running.
  const open = await db
    .select({ id: cases.id, lastSeq: cases.lastSeq, runId: cases.runId })
    .from(cases)
    .where(inArray(cases.status, OPEN_STATUSES));
  for (const row of open) {
    if (running.has(row.id)) continue;
    report.checked++;
    let status: string;
    let runId: string | undefined;
    let closedAt: Date | undefined;
    try {
      const d = await bounded(() => client.workflow.getHandle(row.id).describe());
      status = d.status.name;
      runId = d.runId;
      closedAt = d.closeTime;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) {
        report.skipped.push({ caseId: row.id, reason: `describe failed: ${(err as Error).message}` });
        continue;
      }
      status = 'NOT_FOUND';
    }
    if (status === 'RUNNING' || status === 'CONTINUED_AS_NEW') continue; // started after the listing
    if (status === 'COMPLETED' && runId) {
      // The case ended normally but its last projection is missing: its result is its final snapshot.
      const snapshot = (await bounded(() =>
        client.workflow.getHandle(row.id, runId).result(),
      )) as CaseSnapshot;
      const difference: Difference = { caseId: row.id, kind: 'completed', fields: ['status'] };
      report.repaired.push(difference);
      if (opts.dryRun) continue;
      await reprojectCase(db, deps, { snapshot, runId });
      await audit(row.id, { ...difference, runId, seq: snapshot.seq });
      continue;
    }
    report.closed.push({ caseId: row.id, execution: status });
    if (opts.dryRun) continue;
    await closeRow(db, row.id, {
      execution: status,
      runId: runId ?? row.runId,
      at: closedAt ?? new Date(),
      by: operator,
    });
    await audit(row.id, { kind: 'closed', execution: status, runId: runId ?? null });
  }

  if (!opts.dryRun)
    await audit(null, {
      checked: report.checked,
      repaired: report.repaired.map((r) => r.caseId),
      closed: report.closed.map((c) => c.caseId),
      skipped: report.skipped.map((s) => s.caseId),
    });
  return report;
}

/** The fields in which the row and the workflow's snapshot disagree (those the inboxes and SLAs use). */
export function differences(row: typeof cases.$inferSelect, s: CaseSnapshot): string[] {
  const out: string[] = [];
  if (row.status !== s.status) out.push('status');
  if (row.issuingUnit !== s.routing.issuingUnit) out.push('issuingUnit');
  if (row.dueAt.getTime() !== Date.parse(s.routing.dueAt)) out.push('dueAt');
  return out;
}

/** The request the case workflow was started with (its first history event), for a row to rebuild. */
async function requestOf(client: Client, caseId: string, runId: string): Promise<CaseInput> {
  const history = await client.workflow.getHandle(caseId, runId).fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  let payloads = (started?.input?.payloads ?? []) as Parameters<
    (typeof client.workflow.options.loadedDataConverter.payloadCodecs)[number]['decode']
  >[0];
  const converter = client.workflow.options.loadedDataConverter;
  for (const codec of [...converter.payloadCodecs].reverse()) payloads = await codec.decode(payloads);
  const [first] = payloads;
  if (!first) throw new Error(`case ${caseId}: no input in its history`);
  return converter.payloadConverter.fromPayload<CaseInput>(first);
}

/** Closes an open row whose workflow has ended without closing it, with an event on its timeline. */
async function closeRow(
  db: Db,
  caseId: string,
  c: { execution: string; runId: string | null; at: Date; by: { id: string; unitCode: string } },
): Promise<void> {
  await db.transaction(async (tx) => {
    const [last] = await tx
      .select({ seq: max(caseEvents.seq) })
      .from(caseEvents)
      .where(eq(caseEvents.caseId, caseId));
    const [row] = await tx.select({ lastSeq: cases.lastSeq }).from(cases).where(eq(cases.id, caseId));
    const seq = Math.max(last?.seq ?? 0, row?.lastSeq ?? 0) + 1;
    const reason = `${EXECUTION_LABEL[c.execution] ?? c.execution}，读模型对账关闭`;
    await tx
      .update(cases)
      .set({ status: TERMINATED_STATUS, completedAt: c.at, lastSeq: seq, updatedAt: new Date() })
      .where(and(eq(cases.id, caseId), inArray(cases.status, OPEN_STATUSES)));
    await tx
      .insert(caseEvents)
      .values({
        caseId,
        seq,
        type: TERMINATED_STATUS,
        at: new Date(),
        actorId: c.by.id,
        actorUnit: c.by.unitCode,
        reason,
        data: { execution: c.execution },
        runId: c.runId,
      })
      .onConflictDoNothing();
  });
}
