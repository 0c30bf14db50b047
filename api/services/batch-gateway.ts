/**
 * The API's way into Temporal for batches from Excel (part of the CaseGateway): one `batchStart` workflow per
 * batch, with an ID from the batch ID, so a second submit joins or finds the first one's run instead of
 * starting the rows again.
 */
import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { type BatchStartInput, type batchStart, batchStartWorkflowId } from '../../workflows/batch-start.ts';

export interface BatchGateway {
  /** Starts the batch's workflow; a no-op when it runs or ran already. */
  startBatch(input: BatchStartInput): Promise<void>;
}

export function createBatchGateway(client: Client, taskQueue: string): BatchGateway {
  return {
    async startBatch(input) {
      try {
        await client.workflow.start<typeof batchStart>('batchStart', {
          workflowId: batchStartWorkflowId(input.batchId),
          taskQueue,
          args: [input],
          workflowIdConflictPolicy: 'USE_EXISTING',
          // A run that gave up may run again: the rows' cases are keyed, so nothing opens twice.
          workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
    },
  };
}
