/**
 * The API's way into Temporal for bulk actions (part of the CaseGateway): one `bulkAction` workflow per bulk
 * request, with an ID from the unit and the request's Idempotency-Key, so a retried request joins the first one's
 * workflow (or reads its result) instead of applying the action again.
 */
import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/common';
import {
  type BulkInput,
  type BulkOutcome,
  type bulkAction,
  bulkProgressQuery,
} from '../../workflows/bulk-action.ts';

/** Same unit + same client key → same bulk workflow. The key is hashed so any key is a valid workflow ID. */
export function bulkWorkflowId(unitCode: string, idempotencyKey: string): string {
  const digest = createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32);
  return `bulk-${unitCode}-${digest}`;
}

export interface BulkGateway {
  /**
   * Starts the bulk request's workflow, or joins it when it runs or ran already, and waits up to `waitMs` for its
   * outcome; undefined when it is still running then.
   */
  runBulk(input: BulkInput, waitMs: number): Promise<BulkOutcome | undefined>;
  /** The outcome so far (running) or the result (completed); undefined when there is no such bulk workflow. */
  bulkStatus(bulkId: string): Promise<BulkOutcome | undefined>;
}

export function createBulkGateway(client: Client, taskQueue: string): BulkGateway {
  return {
    async runBulk(input, waitMs) {
      try {
        await client.workflow.start<typeof bulkAction>('bulkAction', {
          workflowId: input.bulkId,
          taskQueue,
          args: [input],
          // A retried request finds the running workflow…
          workflowIdConflictPolicy: 'USE_EXISTING',
          // …or, once it has ended, its result: never a second run with the same ID.
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err; // it ran already
      }
      const result = client.workflow.getHandle<typeof bulkAction>(input.bulkId).result();
      result.catch(() => {}); // read below, or abandoned when the wait ends first
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), waitMs);
      });
      try {
        return await Promise.race([result, waited]);
      } finally {
        clearTimeout(timer);
      }
    },
    async bulkStatus(bulkId) {
      const handle = client.workflow.getHandle<typeof bulkAction>(bulkId);
      try {
        const described = await handle.describe();
        if (described.type !== 'bulkAction') return undefined;
        if (described.status.name === 'COMPLETED') return await handle.result();
        return await handle.query(bulkProgressQuery);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return undefined;
        throw err;
      }
    },
  };
}
