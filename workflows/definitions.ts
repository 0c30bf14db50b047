/**
 * The case workflow's contract: its input, its state as others see it, and its Updates, Signals and
 * Queries. Defined once here so the API can import them without pulling in workflow code.
 * Times travel as ISO-8601 strings (payload-friendly and unambiguous).
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

export type SlaTier = '30m' | '1d' | '2d';
export const TIER_ORDER: readonly SlaTier[] = ['30m', '1d', '2d'];
export type StaffRole = 'liaison' | 'agent' | 'supervisor' | 'admin';

/** Who acts: resolved and authorised by the API from the database before anything is sent here. */
export interface Actor {
  staffId: string;
  name: string;
  unitCode: string;
  role: StaffRole;
  /** "B acting for A": the absent colleague this actor stands in for. */
  onBehalfOf?: string;
  /** An agent acting as the unit's backup liaison (联络员B角) while every liaison is absent (Art. 6). */
  actingAsLiaison?: boolean;
}

export interface Subject {
  kind: 'person' | 'company';
  name: string;
  /** Resident ID number (18 digits) or unified social credit code (18 characters). */
  idNumber: string;
}

export interface CaseInput {
  caseId: string;
  requestingUnit: string;
  issuingUnit: string;
  catalog: { code: string; version: number; name: string };
  subject: Subject;
  fields: Record<string, unknown>;
  purpose: string;
  tier: SlaTier;
  /** Art. 4: why the requester asks for a slower tier than the catalog item's default. */
  tierReason?: string;
  /** The requesting unit's own application number (办件号), to set the Art. 7 clock pause against. */
  applicationNumber?: string;
  createdBy: Actor;
  /** When the API accepted the request (the case's receipt time). */
  requestedAt: string;
  /** Working-time fractions of the SLA at which reminders go out; default [0.5, 0.8]. */
  reminderFractions?: number[];
  /**
   * What the API worked out before the start (document number, first deadline with the reminder instants
   * for `reminderFractions`), so the case opens without activities in sequence (patch opening-prepared).
   */
  opening?: OpeningFacts;
  /**
   * The catalog item's connector (patch connector-auto-answer): the case first asks that data source and,
   * on a clear match, answers itself; otherwise it goes to a person with the reason. Set by the API only
   * for a connector the system has configured.
   */
  connector?: string;
}

/** Who answers from a connector: the system, acting for the issuing unit (系统自动核验). */
export const SYSTEM_CONNECTOR_PREFIX = 'system:connector:';
export const systemActorId = (connector: string): string => `${SYSTEM_CONNECTOR_PREFIX}${connector}`;
export const isSystemActorId = (id: string | null | undefined): boolean =>
  !!id && id.startsWith(SYSTEM_CONNECTOR_PREFIX);

export const DEFAULT_REMINDER_FRACTIONS: readonly number[] = [0.5, 0.8];

export interface OpeningFacts {
  docNumber: string;
  deadline: {
    effectiveReceivedAt: string;
    dueAt: string;
    flags: string[];
    reminderAt: string[];
  };
}

export type OpenStatus = 'awaiting_registration' | 'registered' | 'returned';
export type ClosedStatus =
  | 'answered'
  | 'withdrawn'
  | 'closed_after_return'
  | 'offline'
  | 'applicant_supplied';
export type CaseStatus = OpenStatus | ClosedStatus;
export const CLOSED_STATUSES: readonly CaseStatus[] = [
  'answered',
  'withdrawn',
  'closed_after_return',
  'offline',
  'applicant_supplied',
];

/**
 * Read model only, never a workflow's: the case's workflow ended without closing the case (terminated by
 * an operator, timed out, failed, or gone). Set by `npm run cases:reconcile`; the case is over (已终止).
 */
export const TERMINATED_STATUS = 'terminated';
/** Every status after which a case takes no more actions, as the read model shows it. */
export const ENDED_STATUSES: readonly string[] = [...CLOSED_STATUSES, TERMINATED_STATUS];

export type ResponseResult = 'consistent' | 'inconsistent' | 'not_found' | 'partial';
export type OfflineChannel = 'fax' | 'oa' | 'email' | 'on_site' | 'other';

export interface Routing {
  /** 1 for the first issuing unit, +1 for each re-route. */
  routingNo: number;
  issuingUnit: string;
  /** Receipt of this routing: the original request, or the re-route. Deadlines count from here. */
  receivedAt: string;
  effectiveReceivedAt: string;
  dueAt: string;
  flags: string[];
  reminderAt: string[];
  remindersSent: number;
  arrivedAt: string;
  registeredAt?: string;
  registeredBy?: string;
}

export interface Escalation {
  level: 1 | 2;
  /** The routing whose deadline was missed. */
  routingNo: number;
  /** The issuing unit of that routing: it keeps the escalation after a return and re-route. */
  issuingUnit?: string;
  openedAt: string;
  missedDueAt: string;
  status: 'open' | 'ordered' | 'closed';
  orderedDueAt?: string;
  orderedBy?: string;
  orderNote?: string;
  officeRemindedAt?: string;
  closedAt?: string;
  closedBy?: string;
  outcome?: string;
  caseCompletedAt?: string;
}

export interface CaseAnswer {
  result: ResponseResult;
  fields: Record<string, unknown>;
  attachments: string[];
  answeredAt: string;
  answeredBy: string;
  late: boolean;
  lateWorkingMinutes: number;
  /** The response letter's own number (复函号), from the issuing unit's sequence. */
  replyNumber?: string;
  /** Answered by the system from a data source (connector), not by a person. */
  automatic?: AutomaticAnswer;
}

export interface AutomaticAnswer {
  connector: string;
  /** The data source as people read it (数据来源). */
  source: string;
  /** When the source was queried. */
  queriedAt: string;
  /** SHA-256 (hex) of the source's canonical JSON answer, kept as evidence. */
  evidenceHash: string;
}

/** The automatic answer's attempt (patch connector-auto-answer). */
export interface AutoCheck {
  connector: string;
  /** answered: the system answered; fallback: a person must (with `reason`). */
  status: 'answered' | 'fallback';
  reason?: string;
  at: string;
}

/** One deadline the case had, in the order they came into force (Art. 7: nothing is rewritten). */
export interface DeadlineRecord {
  routingNo: number;
  issuingUnit: string;
  tier: SlaTier;
  dueAt: string;
  /** Why it came into force: receipt, re-route, reclassification, calendar change, office order. */
  kind: 'received' | 'rerouted' | 'reclassified' | 'retimed' | 'ordered';
  reason: string;
  /** From when it was in force. */
  from: string;
}

export interface CaseSnapshot {
  caseId: string;
  docNumber: string;
  status: CaseStatus;
  tier: SlaTier;
  /** Art. 4: the requester's reason for a tier slower than the catalog item's default. */
  tierReason?: string;
  requestingUnit: string;
  catalog: CaseInput['catalog'];
  purpose: string;
  createdBy: string;
  createdAt: string;
  routing: Routing;
  /** Units that returned the case earlier, with their reasons. */
  returns: { issuingUnit: string; reason: string; suggestedUnit?: string; at: string; by: string }[];
  reclassifications: { from: SlaTier; to: SlaTier; reason: string; at: string; by: string }[];
  /** Every deadline the case ever had, oldest first; lateness is measured against the one missed. */
  deadlines: DeadlineRecord[];
  assigneeId?: string;
  answer?: CaseAnswer;
  completion?: { status: ClosedStatus; at: string; by: string; note?: string; channel?: OfflineChannel };
  escalations: Escalation[];
  lastUrgedAt?: string;
  /** Art. 7 clock pause: how long the requesting unit waited on verification, for its own assessment. */
  waitedWorkingMinutes?: number;
  /**
   * Art. 7 clock pause, exactly: the periods the case was with an issuing unit (sent → answered or
   * ended, minus the periods it sat returned to the requester). The last one is open (`to` absent)
   * while the case is with an issuing unit.
   */
  waitIntervals: { from: string; to?: string }[];
  /** The requesting unit's own application number (办件号). */
  applicationNumber?: string;
  /** The automatic answer's attempt, in cases whose catalog item names a connector. */
  autoCheck?: AutoCheck;
  seq: number;
}

// ─── Updates (a user acts and waits for the answer) ─────────────────────────────────────────────

export interface RegisterInput {
  actor: Actor;
}
export interface RespondInput {
  actor: Actor;
  result: ResponseResult;
  fields: Record<string, unknown>;
  attachments?: string[];
}
export interface ReturnInput {
  actor: Actor;
  reason: string;
  suggestedUnit?: string;
}
export interface RerouteInput {
  actor: Actor;
  issuingUnit: string;
  note?: string;
}
export interface ReclassifyInput {
  actor: Actor;
  tier: SlaTier;
  reason: string;
}
export interface ReasonInput {
  actor: Actor;
  reason: string;
}
export interface OfflineInput {
  actor: Actor;
  channel: OfflineChannel;
  note: string;
  result?: ResponseResult;
}
export interface ApplicantProofInput {
  actor: Actor;
  note: string;
  /** Scans of the proof the applicant brought (Art. 9), uploaded by the requesting unit. */
  attachments?: string[];
}
export interface ReassignInput {
  actor: Actor;
  toStaffId: string;
  reason?: string;
}
export interface OrderDeadlineInput {
  actor: Actor;
  dueAt: string;
  note: string;
}
export interface CloseEscalationInput {
  actor: Actor;
  level: 1 | 2;
  outcome: string;
}

export const openedUpdate = defineUpdate<CaseSnapshot, []>('opened');
export const registerUpdate = defineUpdate<CaseSnapshot, [RegisterInput]>('register');
export const respondUpdate = defineUpdate<CaseSnapshot, [RespondInput]>('respond');
export const returnUpdate = defineUpdate<CaseSnapshot, [ReturnInput]>('return');
export const rerouteUpdate = defineUpdate<CaseSnapshot, [RerouteInput]>('reroute');
export const closeAfterReturnUpdate = defineUpdate<CaseSnapshot, [ReasonInput]>('closeAfterReturn');
export const reclassifyUpdate = defineUpdate<CaseSnapshot, [ReclassifyInput]>('reclassify');
export const urgeUpdate = defineUpdate<CaseSnapshot, [ReasonInput]>('urge');
export const withdrawUpdate = defineUpdate<CaseSnapshot, [ReasonInput]>('withdraw');
export const recordOfflineUpdate = defineUpdate<CaseSnapshot, [OfflineInput]>('recordOffline');
export const applicantProofUpdate = defineUpdate<CaseSnapshot, [ApplicantProofInput]>('applicantProof');
export const reassignUpdate = defineUpdate<CaseSnapshot, [ReassignInput]>('reassign');
/** The assignee (or the unit's liaison) gives a registered case back to the unit's unclaimed tasks. */
export const unclaimUpdate = defineUpdate<CaseSnapshot, [ReasonInput]>('unclaim');
export const orderDeadlineUpdate = defineUpdate<CaseSnapshot, [OrderDeadlineInput]>('orderDeadline');
export const closeEscalationUpdate = defineUpdate<CaseSnapshot, [CloseEscalationInput]>('closeEscalation');

/**
 * The joint-meeting office re-routes a case it found not to be its issuing unit's duty (职责争议, Art. 7/11;
 * patch office-reroute): recorded as the unit's return (by the office's decision) and the re-route at once.
 */
export interface OfficeRerouteInput {
  actor: Actor;
  issuingUnit: string;
  reason: string;
  /** The dispute decided (workflows/dispute.ts). */
  disputeId?: string;
}
export const officeRerouteUpdate = defineUpdate<CaseSnapshot, [OfficeRerouteInput]>('officeReroute');

// ─── Signals (nobody waits for an answer) ───────────────────────────────────────────────────────

/** An agent became absent: their registered cases pass to their A/B partner. */
export interface HandOverInput {
  fromStaffId: string;
  toStaffId: string;
  toName: string;
  reason: string;
}
export const handOverSignal = defineSignal<[HandOverInput]>('handOver');
/** The working calendar changed on these dates: re-time the deadline if the window touches them. */
export interface CalendarChangedInput {
  dates: string[];
  changedBy: string;
}
export const calendarChangedSignal = defineSignal<[CalendarChangedInput]>('calendarChanged');

export const snapshotQuery = defineQuery<CaseSnapshot>('snapshot');

/** Minimum time between two urges (催办) of the same case. */
export const URGE_INTERVAL_MS = 30 * 60 * 1000;
