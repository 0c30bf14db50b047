/**
 * One 告知承诺 (seed 004, 事中事后核查), as a workflow (ID = the commitment's): it waits until the check is due
 * (working days of the city's calendar, worked out by an activity), then starts the check's verification case as
 * a child workflow (the case workflow unchanged; abandoned, not ended, if this one ends first) and waits for it to
 * end. A consistent answer fulfils the commitment; anything else (inconsistent, not found, returned and closed,
 * verified offline …) waits for the requesting unit's written decision: true, or false → a credit record that
 * bars the subject from 告知承诺 for the configured period.
 */
import * as wf from '@temporalio/workflow';
import type { CaseActivities } from './activity-contract.ts';
import { CASE_ACTIVITY_OPTIONS } from './activity-options.ts';
import { refuse } from './case-rules.ts';
import {
  type CommitmentActivities,
  type CommitmentInput,
  type CommitmentState,
  commitmentCaseId,
  commitmentQuery,
  commitmentScheduledUpdate,
  confirmCommitmentUpdate,
} from './commitment-definitions.ts';
import { type CaseSnapshot, DEFAULT_REMINDER_FRACTIONS } from './definitions.ts';
import { resultLabel, statusLabel } from './labels.ts';
import type { verificationCase } from './verification-case.ts';

const acts = wf.proxyActivities<CommitmentActivities>(CASE_ACTIVITY_OPTIONS);
/** The case's own numbering and deadline activities (the API's start path works out the same before a start). */
const caseActs = wf.proxyActivities<CaseActivities>(CASE_ACTIVITY_OPTIONS);
const nowIso = (): string => new Date(Date.now()).toISOString();
const DAY_MS = 24 * 3_600_000;

/** The asked agency's answer or refusal as the requesting unit reads it (Chinese, one paragraph). */
export function checkFindings(
  s: CaseSnapshot,
  titles: Record<string, string> = {},
): { outcome: string; note: string } {
  const parts: string[] = [];
  for (const r of s.returns) parts.push(`退回理由（${r.issuingUnit}）：${r.reason}`);
  if (s.status === 'answered' && s.answer) {
    const fields = Object.entries(s.answer.fields)
      .filter(([, v]) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
      .map(([k, v]) => `${titles[k] ?? k}：${typeof v === 'boolean' ? (v ? '是' : '否') : String(v)}`);
    parts.unshift(
      `反馈结果：${resultLabel(s.answer.result)}${s.answer.replyNumber ? `（复函号 ${s.answer.replyNumber}）` : ''}` +
        (fields.length ? `；${fields.join('；')}` : ''),
    );
    return { outcome: s.answer.result, note: parts.join('\n') };
  }
  parts.unshift(`核查协查${statusLabel(s.status)}${s.completion?.note ? `：${s.completion.note}` : ''}`);
  return { outcome: s.status, note: parts.join('\n') };
}

export async function commitmentCheck(input: CommitmentInput): Promise<CommitmentState> {
  let state: CommitmentState = { commitmentId: input.commitmentId, status: 'scheduled' };
  let deciding = false;
  /** The due time is in the read model: the API's start answers then, and shows it. */
  let scheduledInReadModel = false;
  const project = async (next: CommitmentState) => {
    state = next;
    await acts.projectCommitment({ state: next });
  };

  wf.setHandler(commitmentQuery, () => state);
  wf.setHandler(commitmentScheduledUpdate, async () => {
    await wf.condition(() => scheduledInReadModel);
    return state;
  });
  wf.setHandler(
    confirmCommitmentUpdate,
    async ({ actor, verdict, reason }) => {
      deciding = true;
      const at = nowIso();
      const decided: CommitmentState = {
        ...state,
        status: verdict === 'false' ? 'false' : 'fulfilled',
        decision: verdict,
        decisionReason: reason.trim(),
        decidedBy: actor.staffId,
        decidedAt: at,
        ...(verdict === 'false'
          ? { barredUntil: new Date(Date.parse(at) + input.barDays * DAY_MS).toISOString() }
          : {}),
      };
      if (verdict === 'false') {
        await acts.recordCreditRecord({ state: decided, actor });
        state = decided;
      } else await project(decided);
      return state;
    },
    {
      validator: ({ actor, reason }) => {
        if (actor.unitCode !== input.requestingUnit)
          refuse('wrong_party', '只有作出核查的需求单位可以确认核查结论');
        if (state.status !== 'awaiting_confirmation' || deciding)
          refuse('invalid_state', '该承诺当前不需要确认核查结论');
        if (!reason?.trim()) refuse('invalid_input', '请书面说明理由');
      },
    },
  );

  const due = await acts.commitmentCheckDue({ from: input.recordedAt, workingDays: input.checkWorkingDays });
  await project({ ...state, checkDueAt: due });
  scheduledInReadModel = true;
  const wait = Date.parse(due) - Date.now();
  if (wait > 0) await wf.sleep(wait);

  // The case opens as one the API starts: its number and first deadline worked out before (opening-prepared).
  const caseId = commitmentCaseId(input.commitmentId);
  const requestedAt = nowIso();
  const docNumber = await caseActs.allocateDocNumber({
    caseId,
    unitCode: input.requestingUnit,
    at: requestedAt,
  });
  const deadline = await caseActs.computeDeadline({
    receivedAt: requestedAt,
    tier: input.check.tier,
    reminderFractions: [...DEFAULT_REMINDER_FRACTIONS],
  });
  const child = await wf.startChild<typeof verificationCase>('verificationCase', {
    workflowId: caseId,
    args: [{ ...input.check, caseId, requestedAt, opening: { docNumber, deadline } }],
    parentClosePolicy: 'ABANDON',
  });
  await project({ ...state, status: 'checking', caseId, caseDocNumber: docNumber });
  const ended = await child.result();
  const { outcome, note } = checkFindings(ended, input.responseTitles);
  const consistent = ended.status === 'answered' && ended.answer?.result === 'consistent';
  await project({
    ...state,
    status: consistent ? 'fulfilled' : 'awaiting_confirmation',
    caseDocNumber: ended.docNumber,
    checkOutcome: outcome,
    checkNote: note,
    checkedAt: nowIso(),
  });
  if (!consistent) await wf.condition(() => state.decision !== undefined);
  await wf.condition(wf.allHandlersFinished);
  return state;
}
