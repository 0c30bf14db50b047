/**
 * Re-timing the open cases after a change of the working calendar, as a workflow so that it finishes even if the
 * API process that committed the change dies: one workflow per change (ID `calendar-retime-<id>`), pages of cases
 * from the database, a `calendarChanged` signal to each (the case re-computes its own deadline; a repeated signal
 * changes nothing), continue-as-new when the history grows. A case that ended meanwhile counts as `failed`.
 */
import * as wf from '@temporalio/workflow';
import { HOUSEKEEPING_ACTIVITY_OPTIONS } from './activity-options.ts';
import { calendarChangedSignal } from './definitions.ts';

export type CalendarChange =
  /** Day kinds changed on these dates. */
  | { dates: string[] }
  /** Office hours or the receipt rule changed: every open case. */
  | { all: true }
  /** Coverage of whole years changed. */
  | { years: number[] };

export interface CasesToRetime {
  cases: Array<{ id: string; dates: string[] }>;
  /** Where the next page starts; absent on the last page. */
  next?: string;
}

export interface CalendarActivities {
  casesToRetime(change: CalendarChange, afterId: string | undefined, limit: number): Promise<CasesToRetime>;
  /** Clears the change's "re-timing pending" marker. */
  calendarRetimeDone(retimeId: string): Promise<void>;
}

export interface RetimeOutcome {
  signalled: number;
  failed: number;
}

export interface CalendarRetimeInput {
  retimeId: string;
  change: CalendarChange;
  changedBy: string;
  /** Carried over continue-as-new. */
  afterId?: string;
  outcome?: RetimeOutcome;
}

export const calendarRetimeWorkflowId = (retimeId: string) => `calendar-retime-${retimeId}`;

const PAGE = 200;

const acts = wf.proxyActivities<CalendarActivities>(HOUSEKEEPING_ACTIVITY_OPTIONS);

export async function calendarRetime(input: CalendarRetimeInput): Promise<RetimeOutcome> {
  const outcome: RetimeOutcome = { ...(input.outcome ?? { signalled: 0, failed: 0 }) };
  let afterId = input.afterId;
  for (;;) {
    const page = await acts.casesToRetime(input.change, afterId, PAGE);
    await Promise.all(
      page.cases.map(async (c) => {
        try {
          await wf
            .getExternalWorkflowHandle(c.id)
            .signal(calendarChangedSignal, { dates: c.dates, changedBy: input.changedBy });
          outcome.signalled++;
        } catch {
          outcome.failed++; // the case ended meanwhile: nothing to re-time
        }
      }),
    );
    if (!page.next) break;
    afterId = page.next;
    if (wf.workflowInfo().continueAsNewSuggested)
      await wf.continueAsNew<typeof calendarRetime>({ ...input, afterId, outcome });
  }
  await acts.calendarRetimeDone(input.retimeId);
  return outcome;
}
