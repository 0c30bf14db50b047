/**
 * The complaint (投诉, Zibo attachment 4, Art. 10): its input, state, messages and rules, importable by the
 * API without the workflow code. A complaint is accepted (受理) by the joint-meeting office, assigned (指派)
 * to the unit that handles it, and answered (办结答复) within 5 working days of acceptance; the deadline may be
 * extended once, by at most 5 working days, on a reasoned request the office approves. A complaint still
 * unanswered at its deadline is escalated to the office (notices to its supervisors and a flag).
 *
 * The rules here are pure (state + action → refusal or next state); the workflow shell
 * (workflows/complaint.ts) fetches deadlines from activities and records each step.
 */
import { ApplicationFailure, defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Actor } from './definitions.ts';

/** Working days to answer from acceptance (Art. 10). */
export const COMPLAINT_ANSWER_DAYS = 5;
/** The longest extension, in working days, and how many may be approved (Art. 10: once). */
export const COMPLAINT_MAX_EXTENSION_DAYS = 5;

export const COMPLAINT_CHANNELS = [
  'hotline_12345',
  'window',
  'online',
  'letter',
  'platform',
  'other',
] as const;
export type ComplaintChannel = (typeof COMPLAINT_CHANNELS)[number];
export type ComplaintStatus = 'accepted' | 'assigned' | 'answered';

export interface ComplaintPerson {
  staffId: string;
  name: string;
  unitCode: string;
}

export interface ComplaintInput {
  complaintId: string;
  /** The office staff who accepted it (受理人). */
  acceptedBy: Actor;
  /** When the office accepted it: the day the 5 working days count from. */
  acceptedAt: string;
  /** The unit complained about. */
  unitCode: string;
  channel: ComplaintChannel;
  ticketNo?: string;
  relatedCaseId?: string;
  complainant: { name: string; phone: string };
  content: string;
}

export interface ComplaintExtension {
  days: number;
  reason: string;
  requestedAt: string;
  requestedBy: ComplaintPerson;
  status: 'pending' | 'approved' | 'denied';
  decidedAt?: string;
  decidedBy?: ComplaintPerson;
  note?: string;
  /** The deadline it gave (approved). */
  dueAt?: string;
}

export interface ComplaintEvent {
  seq: number;
  type:
    | 'accepted'
    | 'assigned'
    | 'extension_requested'
    | 'extension_approved'
    | 'extension_denied'
    | 'escalated'
    | 'answered';
  at: string;
  actor?: ComplaintPerson;
  reason?: string;
  data?: Record<string, unknown>;
}

export interface ComplaintSnapshot extends ComplaintInput {
  seq: number;
  status: ComplaintStatus;
  dueAt: string;
  originalDueAt: string;
  deadlineFlags: string[];
  handlingUnit?: string;
  assignee?: { staffId: string; name: string };
  assignedAt?: string;
  /** Every extension request, oldest first (at most one approved). */
  extensions: ComplaintExtension[];
  escalatedAt?: string;
  answer?: { text: string; at: string; by: ComplaintPerson; onTime: boolean };
}

/** Who a step's notice goes to: the office's supervisors, or the handling unit's people. */
export type ComplaintAudience = 'office_supervisors' | 'handling_unit';
export interface ComplaintNotice {
  kind: string;
  audience: ComplaintAudience;
  message: string;
}

export interface AssignInput {
  actor: Actor;
  unitCode: string;
  assignee?: { staffId: string; name: string };
  note?: string;
}
export interface AnswerInput {
  actor: Actor;
  text: string;
}
export interface ExtensionRequestInput {
  actor: Actor;
  days: number;
  reason: string;
}
export interface ExtensionDecisionInput {
  actor: Actor;
  approve: boolean;
  note?: string;
}

export const complaintOpenedUpdate = defineUpdate<ComplaintSnapshot, []>('complaintOpened');
export const complaintAssignUpdate = defineUpdate<ComplaintSnapshot, [AssignInput]>('complaintAssign');
export const complaintAnswerUpdate = defineUpdate<ComplaintSnapshot, [AnswerInput]>('complaintAnswer');
export const complaintExtensionUpdate = defineUpdate<ComplaintSnapshot, [ExtensionRequestInput]>(
  'complaintRequestExtension',
);
export const complaintDecideExtensionUpdate = defineUpdate<ComplaintSnapshot, [ExtensionDecisionInput]>(
  'complaintDecideExtension',
);
export const complaintSnapshotQuery = defineQuery<ComplaintSnapshot>('complaintSnapshot');

/** The workflow ID of a complaint: the office's unit and the client's key (hashed by the API). */
export const complaintWorkflowPrefix = 'complaint-';

// ─── Rules (pure; refusals are ApplicationFailures the API maps to 403 / 422) ─────────────────

/** `wrong_party` → 403, `invalid_input` → 422 (api/services/case-gateway.ts). */
function refuse(kind: 'wrong_party' | 'invalid_input', message: string): never {
  throw ApplicationFailure.create({ type: `CaseRefusal.${kind}`, message, nonRetryable: true });
}

const isOffice = (a: Actor) => a.role === 'supervisor';
const isHandler = (c: ComplaintSnapshot, a: Actor) =>
  c.handlingUnit === a.unitCode && (a.role === 'liaison' || a.role === 'agent');

export const pendingExtension = (c: ComplaintSnapshot) => c.extensions.find((e) => e.status === 'pending');
export const approvedExtension = (c: ComplaintSnapshot) => c.extensions.find((e) => e.status === 'approved');

export const complaintRules = {
  assign(c: ComplaintSnapshot, a: Actor): void {
    if (!isOffice(a)) refuse('wrong_party', '只有联席会议办公室可以指派承办单位');
    if (c.status === 'answered') refuse('invalid_input', '该投诉已办结答复，不能再指派');
  },
  answer(c: ComplaintSnapshot, a: Actor, text: string): void {
    if (c.status === 'answered') refuse('invalid_input', '该投诉已办结答复，不能重复答复');
    if (!isHandler(c, a)) refuse('wrong_party', '只有承办单位可以答复该投诉');
    if (text.trim().length < 2) refuse('invalid_input', '请填写办理结果');
  },
  requestExtension(c: ComplaintSnapshot, a: Actor, days: number, reason: string, nowMs: number): void {
    if (c.status === 'answered') refuse('invalid_input', '该投诉已办结答复，不能申请延期');
    if (!isHandler(c, a)) refuse('wrong_party', '只有承办单位可以申请延期');
    if (approvedExtension(c))
      refuse('invalid_input', '该投诉已延期一次，不能再次延期（第十条：延期仅限一次）');
    if (pendingExtension(c)) refuse('invalid_input', '已有待审批的延期申请，请等待联席会议办公室审批');
    if (!Number.isInteger(days) || days < 1 || days > COMPLAINT_MAX_EXTENSION_DAYS)
      refuse('invalid_input', `延期最长不得超过 ${COMPLAINT_MAX_EXTENSION_DAYS} 个工作日`);
    if (reason.trim().length < 2) refuse('invalid_input', '请说明延期理由');
    if (nowMs > Date.parse(c.dueAt)) refuse('invalid_input', '办理期限已过，不能再申请延期');
  },
  decideExtension(c: ComplaintSnapshot, a: Actor): void {
    if (!isOffice(a)) refuse('wrong_party', '只有联席会议办公室可以审批延期');
    if (c.status === 'answered') refuse('invalid_input', '该投诉已办结答复，无需审批延期');
    if (!pendingExtension(c)) refuse('invalid_input', '没有待审批的延期申请');
  },
};

const person = (a: Actor): ComplaintPerson => ({ staffId: a.staffId, name: a.name, unitCode: a.unitCode });

/** One step's outcome: the next state, its event, and its notices. */
export interface ComplaintStep {
  state: ComplaintSnapshot;
  event: ComplaintEvent;
  notices: ComplaintNotice[];
}

function step(
  c: ComplaintSnapshot,
  next: ComplaintSnapshot,
  type: ComplaintEvent['type'],
  at: string,
  actor: Actor | undefined,
  extra: Pick<ComplaintEvent, 'reason' | 'data'> = {},
  notices: ComplaintNotice[] = [],
): ComplaintStep {
  const seq = c.seq + 1;
  return {
    state: { ...next, seq },
    event: { seq, type, at, ...(actor ? { actor: person(actor) } : {}), ...extra },
    notices,
  };
}

const ticket = (c: ComplaintSnapshot) => (c.ticketNo ? `（工单号 ${c.ticketNo}）` : '');

export const complaintMachine = {
  open(input: ComplaintInput, due: { dueAt: string; flags: string[] }): ComplaintStep {
    const state: ComplaintSnapshot = {
      ...input,
      seq: 0,
      status: 'accepted',
      dueAt: due.dueAt,
      originalDueAt: due.dueAt,
      deadlineFlags: due.flags,
      extensions: [],
    };
    return step(state, state, 'accepted', input.acceptedAt, input.acceptedBy, {
      data: { dueAt: due.dueAt, channel: input.channel, ticketNo: input.ticketNo ?? null },
    });
  },
  assign(c: ComplaintSnapshot, i: AssignInput, at: string): ComplaintStep {
    const next: ComplaintSnapshot = {
      ...c,
      status: 'assigned',
      handlingUnit: i.unitCode,
      assignedAt: at,
    };
    if (i.assignee) next.assignee = i.assignee;
    else delete next.assignee;
    return step(
      c,
      next,
      'assigned',
      at,
      i.actor,
      { ...(i.note ? { reason: i.note } : {}), data: { unitCode: i.unitCode, assignee: i.assignee ?? null } },
      [
        {
          kind: 'complaint_assigned',
          audience: 'handling_unit',
          message: `联席会议办公室指派投诉${ticket(c)}由本单位办理，请于 ${c.dueAt} 前办结答复`,
        },
      ],
    );
  },
  requestExtension(c: ComplaintSnapshot, i: ExtensionRequestInput, at: string): ComplaintStep {
    const ext: ComplaintExtension = {
      days: i.days,
      reason: i.reason,
      requestedAt: at,
      requestedBy: person(i.actor),
      status: 'pending',
    };
    return step(
      c,
      { ...c, extensions: [...c.extensions, ext] },
      'extension_requested',
      at,
      i.actor,
      { reason: i.reason, data: { days: i.days } },
      [
        {
          kind: 'complaint_extension_requested',
          audience: 'office_supervisors',
          message: `投诉${ticket(c)}的承办单位申请延期 ${i.days} 个工作日，待审批`,
        },
      ],
    );
  },
  decideExtension(
    c: ComplaintSnapshot,
    i: ExtensionDecisionInput,
    extendedDue: { dueAt: string; flags: string[] } | undefined,
    at: string,
  ): ComplaintStep {
    const decided = c.extensions.map((e) =>
      e.status === 'pending'
        ? {
            ...e,
            status: i.approve ? ('approved' as const) : ('denied' as const),
            decidedAt: at,
            decidedBy: person(i.actor),
            ...(i.note ? { note: i.note } : {}),
            ...(i.approve && extendedDue ? { dueAt: extendedDue.dueAt } : {}),
          }
        : e,
    );
    const next: ComplaintSnapshot = { ...c, extensions: decided };
    if (i.approve && extendedDue) {
      next.dueAt = extendedDue.dueAt;
      next.deadlineFlags = extendedDue.flags;
    }
    return step(
      c,
      next,
      i.approve ? 'extension_approved' : 'extension_denied',
      at,
      i.actor,
      { ...(i.note ? { reason: i.note } : {}), data: { dueAt: next.dueAt } },
      [
        {
          kind: i.approve ? 'complaint_extension_approved' : 'complaint_extension_denied',
          audience: 'handling_unit',
          message: i.approve
            ? `投诉${ticket(c)}的延期申请已批准，办结期限延至 ${next.dueAt}`
            : `投诉${ticket(c)}的延期申请未获批准，仍须于 ${c.dueAt} 前办结答复`,
        },
      ],
    );
  },
  escalate(c: ComplaintSnapshot, at: string): ComplaintStep {
    return step(c, { ...c, escalatedAt: at }, 'escalated', at, undefined, { data: { dueAt: c.dueAt } }, [
      {
        kind: 'complaint_overdue',
        audience: 'office_supervisors',
        message: `投诉${ticket(c)}已超过办结期限（${c.dueAt}）仍未答复，请督办`,
      },
      ...(c.handlingUnit
        ? [
            {
              kind: 'complaint_overdue',
              audience: 'handling_unit' as const,
              message: `投诉${ticket(c)}已超过办结期限（${c.dueAt}），已报联席会议办公室督办`,
            },
          ]
        : []),
    ]);
  },
  answer(c: ComplaintSnapshot, i: AnswerInput, at: string): ComplaintStep {
    const onTime = Date.parse(at) <= Date.parse(c.dueAt);
    return step(
      c,
      { ...c, status: 'answered', answer: { text: i.text, at, by: person(i.actor), onTime } },
      'answered',
      at,
      i.actor,
      { data: { onTime } },
      [
        {
          kind: 'complaint_answered',
          audience: 'office_supervisors',
          message: `投诉${ticket(c)}已由承办单位办结答复${onTime ? '' : '（逾期）'}`,
        },
      ],
    );
  },
  /** The deadline passed unanswered and not escalated yet. */
  overdue(c: ComplaintSnapshot, nowMs: number): boolean {
    return c.status !== 'answered' && !c.escalatedAt && nowMs >= Date.parse(c.dueAt);
  },
};
