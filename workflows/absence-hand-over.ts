/**
 * One recorded absence (Art. 6, A/B roles), as a workflow (ID `absence-<id>`): when it begins, the absent
 * person's registered cases go to their A/B partner; when it ends, the cases the partner still holds from that
 * hand-over go back. Timers wait for both moments, so an absence recorded for next week hands over next week.
 * Each case decides for itself: a hand-over signal is ignored unless the case is registered to `fromStaffId`.
 */
import * as wf from '@temporalio/workflow';
import { HOUSEKEEPING_ACTIVITY_OPTIONS } from './activity-options.ts';
import { type HandOverInput, handOverSignal } from './definitions.ts';

export interface HandOverPlan {
  /** The absent person's registered open cases. */
  caseIds: string[];
  /** Who takes them; null when nobody can (then `warning` says why and the liaison on duty was told). */
  to: { id: string; name: string } | null;
  warning: string | null;
}

export interface AbsenceActivities {
  /** Null when the absence no longer exists. */
  absenceBegins(absenceId: string): Promise<HandOverPlan | null>;
  /** The person to hand back to; null when they are inactive or absent again. */
  absenceEnds(absenceId: string): Promise<{ id: string; name: string } | null>;
}

export interface AbsenceInput {
  absenceId: string;
  staffId: string;
  startsAt: string;
  endsAt: string;
  /** Set when the API already handed the cases over (an absence that covered the moment it was recorded). */
  handedOver?: { toStaffId: string; caseIds: string[] };
}

export interface AbsenceOutcome {
  handedOver: number;
  handedBack: number;
}

export const absenceWorkflowId = (absenceId: string) => `absence-${absenceId}`;
export const HAND_OVER_REASON = '原承办人缺岗，由A/B角接办';
export const HAND_BACK_REASON = '原承办人缺岗结束，交回继续办理';

const acts = wf.proxyActivities<AbsenceActivities>(HOUSEKEEPING_ACTIVITY_OPTIONS);

async function sleepUntil(iso: string): Promise<void> {
  const wait = Date.parse(iso) - Date.now();
  if (wait > 0) await wf.sleep(wait);
}

/** Sends the signal to each case; returns the ones it reached (a case that ended meanwhile is skipped). */
async function signalAll(caseIds: string[], input: HandOverInput): Promise<string[]> {
  const reached: string[] = [];
  await Promise.all(
    caseIds.map(async (id) => {
      try {
        await wf.getExternalWorkflowHandle(id).signal(handOverSignal, input);
        reached.push(id);
      } catch {
        // the case ended: nothing to hand over
      }
    }),
  );
  return reached;
}

export async function absenceHandOver(input: AbsenceInput): Promise<AbsenceOutcome> {
  let handed = input.handedOver;
  if (!handed) {
    await sleepUntil(input.startsAt);
    const plan = await acts.absenceBegins(input.absenceId);
    if (!plan?.to) return { handedOver: 0, handedBack: 0 };
    const reached = await signalAll(plan.caseIds, {
      fromStaffId: input.staffId,
      toStaffId: plan.to.id,
      toName: plan.to.name,
      reason: HAND_OVER_REASON,
    });
    handed = { toStaffId: plan.to.id, caseIds: reached };
  }
  if (!handed.caseIds.length) return { handedOver: 0, handedBack: 0 };
  await sleepUntil(input.endsAt);
  const back = await acts.absenceEnds(input.absenceId);
  if (!back) return { handedOver: handed.caseIds.length, handedBack: 0 };
  const returned = await signalAll(handed.caseIds, {
    fromStaffId: handed.toStaffId,
    toStaffId: back.id,
    toName: back.name,
    reason: HAND_BACK_REASON,
  });
  return { handedOver: handed.caseIds.length, handedBack: returned.length };
}
