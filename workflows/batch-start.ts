/**
 * A batch from Excel (批量发起): one case per valid row of an uploaded list, started by a workflow so that the
 * fan-out runs to the end whatever happens to the HTTP request that asked for it, and runs once: one workflow
 * per batch (`batchStartWorkflowId`). The rows stay in the database (sealed); the workflow carries only the
 * batch ID and who submitted it, and asks an activity to start the next chunk of rows still waiting. Each row's
 * case has a workflow ID derived from (unit, catalog item, file hash, row number) (`batchRowCaseKey`), so a
 * retried activity, a second submit or a re-uploaded file finds the same case instead of opening another. The
 * progress is the rows' status in the database (`GET /api/v1/batches/:id`).
 */
import * as wf from '@temporalio/workflow';
import type { BulkActor } from './bulk-action.ts';

export interface BatchStartInput {
  batchId: string;
  unitCode: string;
  actor: BulkActor;
  sourceIp: string;
}

export interface BatchChunkInput extends BatchStartInput {
  /** Rows (Excel row numbers) to start, each still waiting. */
  rowNumbers: number[];
}

export interface BatchChunkResult {
  started: number;
  failed: number;
}

export interface BatchActivities {
  /** The next rows of the batch still waiting to be started (ascending), at most `limit`. */
  batchPendingRows(input: { batchId: string; limit: number }): Promise<number[]>;
  /** Starts a case for each row (idempotent per row); a refusal marks the row failed, it does not throw. */
  startBatchRows(input: BatchChunkInput): Promise<BatchChunkResult>;
  /** Marks the rows still waiting as failed with the reason (an activity that kept failing). */
  failBatchRows(input: { batchId: string; rowNumbers: number[]; reason: string }): Promise<void>;
  /** The batch is done: every row started or failed. */
  finishBatch(input: { batchId: string }): Promise<void>;
}

/** What a row gets when its chunk's activity kept failing (not a refusal: the outcome is unknown). */
export const BATCH_ROW_FAILED = '系统暂时无法发起此行的协查，请稍后重新提交本批次';

/** Rows per activity call. */
export const BATCH_CHUNK = 25;

export const batchStartWorkflowId = (batchId: string) => `batch-start-${batchId}`;

const acts = wf.proxyActivities<BatchActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});

export async function batchStart(input: BatchStartInput): Promise<BatchChunkResult> {
  const total: BatchChunkResult = { started: 0, failed: 0 };
  for (;;) {
    const rowNumbers = await acts.batchPendingRows({ batchId: input.batchId, limit: BATCH_CHUNK });
    if (rowNumbers.length === 0) break;
    try {
      const r = await acts.startBatchRows({ ...input, rowNumbers });
      total.started += r.started;
      total.failed += r.failed;
    } catch {
      await acts.failBatchRows({ batchId: input.batchId, rowNumbers, reason: BATCH_ROW_FAILED });
      total.failed += rowNumbers.length;
    }
  }
  await acts.finishBatch({ batchId: input.batchId });
  return total;
}
