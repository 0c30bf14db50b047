/**
 * A liaison's bulk action (register or reassign a selection of the unit's cases), as a workflow so that it runs
 * to the end even if the HTTP request that started it is gone, and runs once: one workflow per bulk request (ID
 * from the unit and the request's Idempotency-Key, `bulkWorkflowId` in the API). Each case is its own action,
 * applied by an activity that sends the Update to the case workflow with an Update ID from the bulk ID and the
 * case ID (a retried activity applies it once); one refusal does not stop the others. The outcome of each case
 * is recorded as it comes, and readable while the workflow runs (`bulkProgressQuery`).
 */
import * as wf from '@temporalio/workflow';
import type { StaffRole } from './definitions.ts';

export type BulkActionName = 'register' | 'reassign';

/** The person acting (the API's StaffContext at the time of the request). */
export interface BulkActor {
  id: string;
  username: string;
  name: string;
  unitCode: string;
  unitKind: 'department' | 'office';
  role: StaffRole;
  partnerId: string | null;
  isDemo: boolean;
  mustChangePassword: boolean;
}

export interface BulkInput {
  bulkId: string;
  unitCode: string;
  action: BulkActionName;
  /** Distinct case IDs, in the order of the request. */
  caseIds: string[];
  /** The action's body without `ids` (e.g. `toStaffId`, `reason`). */
  body: Record<string, unknown>;
  actor: BulkActor;
  sourceIp: string;
}

export interface BulkCaseInput {
  bulkId: string;
  action: BulkActionName;
  caseId: string;
  body: Record<string, unknown>;
  actor: BulkActor;
  sourceIp: string;
}

/** One case's outcome: `status` is the HTTP status the single action would have answered. */
export interface BulkCaseResult {
  id: string;
  status: number;
  outcome: 'ok' | 'refused';
  /** Why it was refused (Chinese, for people). */
  detail?: string;
}

export interface BulkOutcome {
  bulkId: string;
  unitCode: string;
  action: BulkActionName;
  state: 'running' | 'completed';
  total: number;
  done: number;
  /** The cases done so far, in the order of the request. */
  results: BulkCaseResult[];
}

export interface BulkActivities {
  /** Applies the action to one case; a refusal is a result, not a failure. */
  applyBulkAction(input: BulkCaseInput): Promise<BulkCaseResult>;
}

export const bulkProgressQuery = wf.defineQuery<BulkOutcome>('bulkProgress');

/** What a case gets when its activity kept failing (not a refusal: the outcome is unknown). */
export const BULK_CASE_FAILED = '系统暂时无法办理此协查，请稍后单独办理';

/** Cases in flight at once. */
const PARALLEL = 5;

const acts = wf.proxyActivities<BulkActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});

export async function bulkAction(input: BulkInput): Promise<BulkOutcome> {
  const results: Array<BulkCaseResult | undefined> = input.caseIds.map(() => undefined);
  const view = (state: BulkOutcome['state']): BulkOutcome => {
    const done = results.filter((r) => r !== undefined);
    return {
      bulkId: input.bulkId,
      unitCode: input.unitCode,
      action: input.action,
      state,
      total: input.caseIds.length,
      done: done.length,
      results: done,
    };
  };
  wf.setHandler(bulkProgressQuery, () => view('running'));
  for (let i = 0; i < input.caseIds.length; i += PARALLEL) {
    await Promise.all(
      input.caseIds.slice(i, i + PARALLEL).map(async (caseId, j) => {
        try {
          results[i + j] = await acts.applyBulkAction({
            bulkId: input.bulkId,
            action: input.action,
            caseId,
            body: input.body,
            actor: input.actor,
            sourceIp: input.sourceIp,
          });
        } catch {
          results[i + j] = { id: caseId, status: 500, outcome: 'refused', detail: BULK_CASE_FAILED };
        }
      }),
    );
  }
  return view('completed');
}
