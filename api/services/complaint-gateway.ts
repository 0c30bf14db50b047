/**
 * The API's way into Temporal for complaints (part of the CaseGateway, like the bulk gateway): one `complaint`
 * workflow per complaint, its ID from the accepting unit and the request's Idempotency-Key, started with
 * update-with-start so the caller gets the complaint with its deadline; actions are Updates whose refusals
 * map to HTTP problems as the cases' do.
 */
import { createHash } from 'node:crypto';
import { type Client, WithStartWorkflowOperation } from '@temporalio/client';
import { type UpdateDefinition, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  type ComplaintInput,
  type ComplaintSnapshot,
  complaintOpenedUpdate,
  complaintSnapshotQuery,
  complaintWorkflowPrefix,
} from '../../workflows/complaint-definitions.ts';

/** Same accepting unit + same client key → same complaint. */
export function complaintWorkflowId(unitCode: string, idempotencyKey: string): string {
  const digest = createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 24);
  return `${complaintWorkflowPrefix}${unitCode}-${digest}`;
}

export interface ComplaintGateway {
  startComplaint(input: ComplaintInput, idempotencyKey: string): Promise<ComplaintSnapshot>;
  actOnComplaint<I>(
    complaintId: string,
    update: UpdateDefinition<ComplaintSnapshot, [I]>,
    input: I,
    updateId?: string,
  ): Promise<ComplaintSnapshot>;
}

/**
 * `withDeadline`: the case gateway's wrapper (the Update deadline, Temporal's refusals mapped to problems), so
 * a complaint's refusals read like a case's.
 */
export function createComplaintGateway(
  client: Client,
  taskQueue: string,
  withDeadline: <T>(fn: () => Promise<T>) => Promise<T>,
): ComplaintGateway {
  return {
    startComplaint: (input, idempotencyKey) =>
      withDeadline(async () => {
        const startOp = new WithStartWorkflowOperation('complaint', {
          workflowId: input.complaintId,
          taskQueue,
          args: [input],
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        });
        return client.workflow
          .executeUpdateWithStart(complaintOpenedUpdate, {
            startWorkflowOperation: startOp,
            updateId: `opened-${idempotencyKey}`,
          })
          .catch(async (err) => {
            if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
            return client.workflow.getHandle(input.complaintId).query(complaintSnapshotQuery);
          });
      }),
    actOnComplaint: (complaintId, update, input, updateId) =>
      withDeadline(() =>
        client.workflow
          .getHandle(complaintId)
          .executeUpdate(update, { args: [input], ...(updateId ? { updateId } : {}) }),
      ),
  };
}
