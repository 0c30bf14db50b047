/**
 * The API's way into Temporal for list adjustments (part of the CaseGateway): one `catalogChange` workflow per
 * recorded cause (ID `catalog-change-<id>`), Updates for filing the request and for the office's decision.
 */
import { type Client, WithStartWorkflowOperation } from '@temporalio/client';
import {
  type CatalogChangeInput,
  type CatalogChangeSnapshot,
  type catalogChange,
  catalogChangeWorkflowId,
  type DecideInput,
  decideUpdate,
  type FileRequestInput,
  fileRequestUpdate,
  recordedUpdate,
} from '../../workflows/catalog-change.ts';

export interface CatalogChangeGateway {
  /** Starts the cause's workflow and waits until its first projection is written (update-with-start). */
  recordCause(input: CatalogChangeInput): Promise<CatalogChangeSnapshot>;
  fileRequest(changeId: string, input: FileRequestInput): Promise<CatalogChangeSnapshot>;
  decide(changeId: string, input: DecideInput): Promise<CatalogChangeSnapshot>;
}

export function createCatalogChangeGateway(
  client: Client,
  taskQueue: string,
  /** Temporal's answer → a problem (the case gateway's mapping: refusals → 403/409/422, timeouts → 504). */
  toProblem: (err: unknown) => unknown,
): CatalogChangeGateway {
  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw toProblem(err);
    }
  };
  const handle = (id: string) => client.workflow.getHandle(catalogChangeWorkflowId(id));
  return {
    recordCause: (input) =>
      call(() =>
        client.workflow.executeUpdateWithStart(recordedUpdate, {
          startWorkflowOperation: new WithStartWorkflowOperation<typeof catalogChange>('catalogChange', {
            workflowId: catalogChangeWorkflowId(input.changeId),
            taskQueue,
            args: [input],
            workflowIdConflictPolicy: 'USE_EXISTING',
          }),
          updateId: 'recorded',
        }),
      ),
    fileRequest: (id, input) => call(() => handle(id).executeUpdate(fileRequestUpdate, { args: [input] })),
    decide: (id, input) => call(() => handle(id).executeUpdate(decideUpdate, { args: [input] })),
  };
}
