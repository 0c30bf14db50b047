/** Shapes of the API's answers (from api/schemas and api/routes). */

export type Tier = '30m' | '1d' | '2d';

export interface CaseSummary {
  id: string;
  docNumber: string;
  status: string;
  tier: Tier;
  requestingUnit: string;
  issuingUnit: string;
  catalogCode: string;
  catalogName: string | null;
  subject: string;
  purpose: string;
  receivedAt: string;
  dueAt: string;
  flags: string[];
  assigneeId: string | null;
  registeredAt: string | null;
  completedAt: string | null;
  result: string | null;
  late: boolean;
  lateMinutes: number | null;
  escalationLevel: number;
  overdue: boolean;
  /** The deadline in force: the office's ordered one while an escalation has it, else dueAt. */
  dueInForce?: string;
  orderedDueAt?: string | null;
  createdAt: string;
}

export interface CaseList {
  items: CaseSummary[];
  nextCursor: string | null;
}

export type JsonObject = Record<string, unknown>;

export interface TimelineEntry {
  seq: number;
  type: string;
  at: string;
  actorId: string | null;
  actorName: string | null;
  actorUnit: string | null;
  onBehalfOf: string | null;
  onBehalfOfName: string | null;
  reason: string | null;
  data: JsonObject;
}

/** `content` of a case: the request as sent (full subject for the case's own units). */
export interface CaseContent {
  subject?: { kind: 'person' | 'company'; name: string; idNumber: string };
  fields?: JsonObject;
  catalog?: { code: string; version: number; name: string };
}

/** `answer` of a case: the response letter's content. */
export interface CaseAnswer {
  result?: string;
  fields?: JsonObject;
  attachments?: string[];
  answeredAt?: string;
  answeredBy?: string;
  late?: boolean;
  lateWorkingMinutes?: number;
  /** Answered by the system from a data source (connector). */
  automatic?: { connector: string; source: string; queriedAt: string; evidenceHash: string };
}

export interface CaseDetail {
  case: CaseSummary & { assigneeName: string | null };
  access: 'full' | 'returned_part';
  content: CaseContent | null;
  answer: CaseAnswer | null;
  waitedWorkingMinutes: number | null;
  /** The response letter's own number (复函号). */
  replyNumber?: string | null;
  tierReason?: string | null;
  templates: { request: JsonObject; response: JsonObject } | null;
  timeline: TimelineEntry[];
  escalations: {
    id: string;
    level: number;
    status: string;
    openedAt: string;
    missedDueAt: string;
    orderedDueAt: string | null;
    orderNote: string | null;
    closedAt: string | null;
    outcome: string | null;
  }[];
  /** Files bound to the case (response attachments, applicant-supplied proof); absent on older servers. */
  attachments?: {
    id: string;
    fileName: string;
    mediaType: string;
    sizeBytes: number;
    uploaderUnit: string;
  }[];
  ledger: {
    id: string;
    kind: string;
    note: string;
    outcome: string | null;
    recordedBy: string;
    at: string;
  }[];
}

export interface EscalationView {
  id: string;
  caseId: string;
  docNumber: string;
  level: number;
  status: string;
  issuingUnit: string;
  requestingUnit: string;
  openedAt: string;
  missedDueAt: string;
  minutesLate: number;
  /** The level the office deals with: the workflow's, or 2 once the office raised it. */
  effectiveLevel: number;
  judgedLevel: number | null;
  judgedAt: string | null;
  orderedDueAt: string | null;
  orderNote: string | null;
  missedOrders: { dueAt: string; orderedAt: string; note: string | null }[];
  responsible: {
    at: string;
    assignee: { id: string; name: string } | null;
    liaisons: { id: string; name: string }[];
    backupActing: boolean;
  } | null;
  caseStatus: string;
  caseCompletedAt: string | null;
  closedAt: string | null;
  outcome: string | null;
}

interface EscalationRecordBase {
  id: string;
  escalationId: string;
  recordedBy: string;
  recordedByName: string;
  recordedAt: string;
}

export interface InterviewFollowUp extends EscalationRecordBase {
  date: string;
  note: string;
  outcome: string | null;
}

export interface EscalationDetail {
  escalation: EscalationView;
  ladder: EscalationView[];
  investigations: (EscalationRecordBase & {
    investigators: { name: string; post?: string }[];
    findings: string;
    documents: { title: string; attachmentId?: string; reference?: string }[];
  })[];
  judgements: (EscalationRecordBase & { decision: 'raise' | 'hold'; reason: string })[];
  interviewRequests: (EscalationRecordBase & {
    requestedOn: string;
    persons: { name: string; post: string }[];
    reason: string;
    outcome: string | null;
    followUps: InterviewFollowUp[];
  })[];
}

export interface DeadlinePreview {
  tier: Tier;
  receivedAt: string;
  effectiveReceivedAt: string;
  dueAt: string;
  flags: string[];
}

export interface Unit {
  code: string;
  name: string;
  kind?: 'department' | 'office';
  canRequest?: boolean;
  canIssue?: boolean;
  docPrefix?: string;
  [k: string]: unknown;
}

export interface CatalogItem {
  code: string;
  name: string;
  version?: number;
  serviceItemName?: string;
  legalBasis?: string;
  issuingUnits: { code: string; name: string }[];
  defaultTier: Tier;
  exemptionMethod?: string;
  requestSchema?: JsonObject;
  responseSchema?: JsonObject;
  /** Who may be the subject (个人 / 企业); both when absent. */
  subjectKinds?: ('person' | 'company')[];
  active?: boolean;
  [k: string]: unknown;
}

/** Lists come as `{ items: [...] }` from this API; a bare array is accepted too. */
export function itemsOf<T>(data: unknown): T[] {
  if (Array.isArray(data)) return data as T[];
  if (data && typeof data === 'object') {
    const o = data as Record<string, unknown>;
    for (const k of ['items', 'units', 'staff', 'days', 'notifications', 'data']) {
      if (Array.isArray(o[k])) return o[k] as T[];
    }
  }
  return [];
}

// ─── Assessment figures (Art. 13): GET /api/v1/stats/units and /stats/trend ─────────────────────

/** Working minutes (median, p90); null when there is no sample. */
export interface MinutesSummary {
  median: number | null;
  p90: number | null;
}

export interface IssuingStats {
  unitId: string;
  unitName: string;
  received: number;
  answeredOnTime: number;
  answeredLate: number;
  returned: number;
  reclassified: number;
  withdrawn: number;
  open: number;
  overdueNow: number;
  overdueByTier: Record<'30m' | '1d' | '2d', number>;
  /** 0..1, null when nothing was answered. */
  onTimeRate: number | null;
  registerMinutes: MinutesSummary;
  answerMinutes: MinutesSummary;
  escalations: { level1: number; level2: number; byOutcome: Record<string, number> };
  staffingCompliant: boolean;
}

export interface RequestingStats {
  unitId: string;
  unitName: string;
  sent: number;
  verificationWaitMinutes: { total: number; median: number | null };
  mismatchRate: number | null;
  ledgerFollowUps: number;
}

export interface RankingRow {
  rank: number;
  unitId: string;
  unitName: string;
  onTimeRate: number | null;
  received: number;
}

export interface UnitsStats {
  period: { from: string; to: string };
  issuing: IssuingStats[];
  requesting: RequestingStats[];
  city: {
    received: number;
    answeredOnTime: number;
    answeredLate: number;
    onTimeRate: number | null;
    overdueNow: number;
    /** Every issuing unit's answers merged (not affected by the unit filter). */
    answerMinutes: MinutesSummary;
  };
  ranking: RankingRow[];
}

export interface TrendDay {
  date: string;
  received: number;
  answered: number;
  answeredOnTime: number;
  onTimeRate: number | null;
}

export interface TrendStats {
  period: { from: string; to: string };
  days: TrendDay[];
}
