/**
 * The API's way into Temporal for responsibility disputes (part of the CaseGateway): one `dispute` workflow per
 * dispute (ID `dispute-<id>`), started once; the office's decision is an Update whose refusals map to the same
 * problems as a case's (403 / 409 / 422).
 */
import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  type DecideDisputeInput,
  type DisputeInput,
  type DisputeState,
  decideDisputeUpdate,
  type dispute,
  disputeWorkflowId,
} from '../../workflows/dispute.ts';

export interface DisputeGateway {
  /** Starts the dispute's workflow; a second call for the same dispute is a no-op. */
  fileDispute(input: DisputeInput): Promise<void>;
  decideDispute(disputeId: string, input: DecideDisputeInput, updateId?: string): Promise<DisputeState>;
}

export function createDisputeGateway(
  client: Client,
  taskQueue: string,
  mapError: (err: unknown) => unknown,
  updateTimeoutMs: number,
): DisputeGateway {
  return {
    async fileDispute(input) {
      try {
        await client.workflow.start<typeof dispute>('dispute', {
          workflowId: disputeWorkflowId(input.disputeId),
          taskQueue,
          args: [input],
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw mapError(err);
      }
    },
    async decideDispute(disputeId, input, updateId) {
      try {
        return await client.withDeadline(Date.now() + updateTimeoutMs, () =>
          client.workflow
            .getHandle(disputeWorkflowId(disputeId))
            .executeUpdate(decideDisputeUpdate, { args: [input], ...(updateId ? { updateId } : {}) }),
        );
      } catch (err) {
        throw mapError(err);
      }
    },
  };
}
