/**
 * The API's way into Temporal for 告知承诺 (part of the CaseGateway): one `commitmentCheck` workflow per commitment,
 * started with update-with-start so the caller learns the check's due time at once, and the requesting unit's
 * decision as an Update. Refusals map to HTTP problems as the case's do.
 */
import {
  type Client,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
} from '@temporalio/client';
import {
  type CommitmentInput,
  type CommitmentState,
  type ConfirmCommitmentInput,
  commitmentQuery,
  commitmentScheduledUpdate,
  confirmCommitmentUpdate,
} from '../../workflows/commitment-definitions.ts';

export interface CommitmentGateway {
  /** Starts the commitment's check (a retry finds the running one) and answers once its due time is known. */
  startCommitment(input: CommitmentInput): Promise<CommitmentState>;
  /** The requesting unit's written decision after a check that did not confirm the commitment. */
  confirmCommitment(
    commitmentId: string,
    input: ConfirmCommitmentInput,
    updateId?: string,
  ): Promise<CommitmentState>;
}

export function createCommitmentGateway(
  client: Client,
  taskQueue: string,
  call: <T>(fn: () => Promise<T>) => Promise<T>,
): CommitmentGateway {
  return {
    startCommitment: (input) =>
      call(async () => {
        const startOp = new WithStartWorkflowOperation('commitmentCheck', {
          workflowId: input.commitmentId,
          taskQueue,
          args: [input],
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        });
        return client.workflow
          .executeUpdateWithStart(commitmentScheduledUpdate, { startWorkflowOperation: startOp })
          .catch(async (err) => {
            if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
            return client.workflow.getHandle(input.commitmentId).query(commitmentQuery);
          });
      }),
    confirmCommitment: (commitmentId, input, updateId) =>
      call(() =>
        client.workflow
          .getHandle(commitmentId)
          .executeUpdate(confirmCommitmentUpdate, { args: [input], ...(updateId ? { updateId } : {}) }),
      ),
  };
}
