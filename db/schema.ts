/**
 * The read model and the reference data. Temporal's case workflow is the source of truth for a case's
 * state; the `cases`, `case_events`, `escalations` and `notifications` tables are projections written by
 * activities, idempotently, keyed by (case, event sequence).
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  customType,
  date,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import type { StoredOfficeHours } from '../domain/working-time/index.ts';

/** bytea as a Buffer (drizzle has no built-in bytea column). */
const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (v) => Buffer.from(v),
});

const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const unitKind = pgEnum('unit_kind', ['department', 'office']);
/** `reviewer`: the city government's reviewer (市政府督查), read-only on escalations and their records. */
export const staffRole = pgEnum('staff_role', ['liaison', 'agent', 'supervisor', 'admin', 'reviewer']);
export const slaTier = pgEnum('sla_tier', ['30m', '1d', '2d']);
export const calendarDayKind = pgEnum('calendar_day_kind', ['work', 'off']);

// ─── Reference data ──────────────────────────────────────────────────────────────────────────────

export const units = pgTable('units', {
  code: text('code').primaryKey(),
  name: text('name').notNull(),
  /** Prefix of the unit's document numbers, e.g. 淄公协 → 淄公协〔2026〕123号. */
  docPrefix: text('doc_prefix').notNull(),
  parentCode: text('parent_code'),
  kind: unitKind('kind').notNull().default('department'),
  canRequest: boolean('can_request').notNull().default(true),
  canIssue: boolean('can_issue').notNull().default(false),
  contact: text('contact'),
  /**
   * Backup liaison (联络员B角, Art. 6): an agent of the unit who acts as liaison while every liaison of the
   * unit is absent (liaison tasks and notifications reach them, and they hold the liaison's rights).
   */
  backupLiaisonId: text('backup_liaison_id'),
  createdAt: tstz('created_at').notNull().defaultNow(),
  /** 审核: an answer of this unit goes out only after one of its leaders (staff.is_leader) approves it. */
  answerReviewRequired: boolean('answer_review_required').notNull().default(false),
});

export const staff = pgTable(
  'staff',
  {
    id: text('id').primaryKey(),
    username: text('username').notNull(),
    displayName: text('display_name').notNull(),
    unitCode: text('unit_code')
      .notNull()
      .references(() => units.code),
    role: staffRole('role').notNull(),
    /** A/B role system (AB角, Art. 6): the colleague who acts when this one is absent. */
    partnerId: text('partner_id'),
    passwordHash: text('password_hash').notNull(),
    mustChangePassword: boolean('must_change_password').notNull().default(false),
    failedLogins: integer('failed_logins').notNull().default(0),
    lockedUntil: tstz('locked_until'),
    /** Bumped by logout and password change: tokens carrying an older version are refused. */
    sessionVersion: integer('session_version').notNull().default(0),
    isDemo: boolean('is_demo').notNull().default(false),
    /** One of the unit's leaders (单位负责人): notified when an escalation of the unit reaches level 2 (Art. 11). */
    isLeader: boolean('is_leader').notNull().default(false),
    active: boolean('active').notNull().default(true),
    createdAt: tstz('created_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('staff_username_uq').on(t.username), index('staff_unit_idx').on(t.unitCode)],
);

export const staffAbsences = pgTable(
  'staff_absences',
  {
    id: text('id').primaryKey(),
    staffId: text('staff_id')
      .notNull()
      .references(() => staff.id),
    startsAt: tstz('starts_at').notNull(),
    endsAt: tstz('ends_at').notNull(),
    reason: text('reason'),
    recordedBy: text('recorded_by').notNull(),
    createdAt: tstz('created_at').notNull().defaultNow(),
  },
  (t) => [index('staff_absences_staff_idx').on(t.staffId)],
);

export const catalogItems = pgTable(
  'catalog_items',
  {
    code: text('code').notNull(),
    version: integer('version').notNull(),
    name: text('name').notNull(),
    serviceItemName: text('service_item_name').notNull(),
    serviceItemCode: text('service_item_code'),
    legalBasis: text('legal_basis').notNull(),
    /** Units that hold the data, in order of preference: the first is the default target. */
    issuingUnitCodes: jsonb('issuing_unit_codes').$type<string[]>().notNull(),
    defaultTier: slaTier('default_tier').notNull(),
    exemptionMethod: text('exemption_method').notNull(),
    /** JSON Schema of the request letter's fields (协查函), Art. 4. */
    requestSchema: jsonb('request_schema').$type<Record<string, unknown>>().notNull(),
    /** JSON Schema of the response letter's fields (反馈函), Art. 4. */
    responseSchema: jsonb('response_schema').$type<Record<string, unknown>>().notNull(),
    /** Who may be the subject: a person (公民身份号码), a company (统一社会信用代码), or either. */
    subjectKinds: jsonb('subject_kinds')
      .$type<('person' | 'company')[]>()
      .notNull()
      .default(sql`'["person","company"]'::jsonb`),
    /**
     * The data source that answers this item's cases automatically (a connector's name from CONNECTORS_FILE,
     * or the embedded demo's `hukou-demo`); its address and secrets live in configuration, never here.
     */
    connector: text('connector'),
    active: boolean('active').notNull().default(true),
    createdAt: tstz('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: 'catalog_items_pk', columns: [t.code, t.version] })],
);

/** Administrators' days: holidays, make-up working days, emergency closures; they override the library. */
export const calendarDays = pgTable('calendar_days', {
  date: text('date').primaryKey(), // YYYY-MM-DD, Asia/Shanghai
  kind: calendarDayKind('kind').notNull(),
  name: text('name'),
  updatedBy: text('updated_by').notNull(),
  updatedAt: tstz('updated_at').notNull().defaultNow(),
});

/**
 * One row: office hours, extra covered years and the receipt rule. Office hours are periods
 * `[{ from, hours }]` (`from: null` = since the beginning), or, as saved before periods existed, a plain list of
 * intervals, read as one period since the beginning (officeHoursPeriods).
 */
export const calendarSettings = pgTable('calendar_settings', {
  id: integer('id').primaryKey().default(1),
  officeHours: jsonb('office_hours').$type<StoredOfficeHours>().notNull(),
  extraCoveredYears: jsonb('extra_covered_years').$type<number[]>().notNull().default(sql`'[]'::jsonb`),
  offHoursReceipt: text('off_hours_receipt').notNull().default('next-opening'),
  updatedBy: text('updated_by').notNull(),
  updatedAt: tstz('updated_at').notNull().defaultNow(),
});

export const docNumberCounters = pgTable(
  'doc_number_counters',
  {
    unitCode: text('unit_code').notNull(),
    year: integer('year').notNull(),
    lastValue: integer('last_value').notNull(),
  },
  (t) => [primaryKey({ name: 'doc_number_counters_pk', columns: [t.unitCode, t.year] })],
);

/** The document number (文号) given to a case: kept apart so a retried allocation returns the same one. */
export const caseDocNumbers = pgTable('case_doc_numbers', {
  caseId: text('case_id').primaryKey(),
  docNumber: text('doc_number').notNull(),
  createdAt: tstz('created_at').notNull().defaultNow(),
});

/** The issuing unit's own sequence for its response letters (复函号), per unit and year. */
export const replyNumberCounters = pgTable(
  'reply_number_counters',
  {
    unitCode: text('unit_code').notNull(),
    year: integer('year').notNull(),
    lastValue: integer('last_value').notNull(),
  },
  (t) => [primaryKey({ name: 'reply_number_counters_pk', columns: [t.unitCode, t.year] })],
);

/** The response letter number given to a case's answer: a retried allocation returns the same one. */
export const caseReplyNumbers = pgTable('case_reply_numbers', {
  /** Case and routing (`<case>#<routing no>`): one number per answer. */
  caseId: text('case_id').primaryKey(),
  replyNumber: text('reply_number').notNull(),
  createdAt: tstz('created_at').notNull().defaultNow(),
});

// ─── Case read model (projections written by activities) ─────────────────────────────────────────

export const cases = pgTable(
  'cases',
  {
    id: text('id').primaryKey(), // = workflow ID
    docNumber: text('doc_number').notNull(),
    requestingUnit: text('requesting_unit').notNull(),
    issuingUnit: text('issuing_unit').notNull(),
    catalogCode: text('catalog_code').notNull(),
    catalogVersion: integer('catalog_version').notNull(),
    subjectKind: text('subject_kind').notNull(), // person | company
    subjectMasked: text('subject_masked').notNull(),
    /** Keyed hash of the subject's ID number: search by exact ID without storing it searchable in clear. */
    subjectIdHash: text('subject_id_hash').notNull(),
    purpose: text('purpose').notNull(),
    tier: slaTier('tier').notNull(),
    status: text('status').notNull(),
    receivedAt: tstz('received_at').notNull(),
    dueAt: tstz('due_at').notNull(),
    flags: jsonb('flags').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    assigneeId: text('assignee_id'),
    registeredAt: tstz('registered_at'),
    registeredBy: text('registered_by'),
    routingNo: integer('routing_no').notNull().default(1),
    completedAt: tstz('completed_at'),
    result: text('result'),
    /** The response letter's fields (反馈函), shown only to the case's units. */
    answer: jsonb('answer').$type<Record<string, unknown>>(),
    /** Art. 7 clock pause: working minutes the requesting unit waited on verification. */
    waitedWorkingMinutes: integer('waited_working_minutes'),
    /** Every deadline the case had (tier, due, reason, from when), oldest first. */
    deadlines: jsonb('deadlines').$type<Record<string, unknown>[]>().notNull().default(sql`'[]'::jsonb`),
    /** Art. 4: why the requester asked for a slower tier than the catalog item's (shown to the issuer). */
    tierReason: text('tier_reason'),
    /** The requesting unit's own application number (办件号) the Art. 7 clock pause is set against. */
    applicationNumber: text('application_number'),
    /** Art. 7 clock pause: when the case was with the issuing side (sent → answered, minus returns). */
    waitIntervals: jsonb('wait_intervals').$type<{ from: string; to?: string }[]>(),
    /** The issuing unit's response letter number (复函号). */
    replyNumber: text('reply_number'),
    late: boolean('late').notNull().default(false),
    lateMinutes: integer('late_minutes'),
    /**
     * Assessment figures (Art. 13), the current routing's: working minutes from its receipt to its
     * registration and to the answer. Null until then (and for cases projected before they existed).
     */
    registerMinutes: integer('register_minutes'),
    /** How many times the case was returned: its routings 1..n ended in a return. */
    returnCount: integer('return_count').notNull().default(0),
    answerMinutes: integer('answer_minutes'),
    /** Assessment figures: the case's escalations as the snapshot has them (level, unit that missed, outcome). */
    escalationFacts: jsonb('escalation_facts').$type<EscalationFact[]>().notNull().default(sql`'[]'::jsonb`),
    escalationLevel: integer('escalation_level').notNull().default(0),
    createdBy: text('created_by').notNull(),
    createdAt: tstz('created_at').notNull(),
    /** Last event sequence projected: a replayed (at-least-once) activity with an older seq changes nothing. */
    lastSeq: integer('last_seq').notNull(),
    /**
     * The workflow run that wrote the row, and the (workflow) time of its last event. Sequence numbers
     * count within one run: a reset starts a new run that reuses them, so a projection from another run
     * supersedes the row when its event is later in time (null: a row from before runs were recorded).
     */
    runId: text('run_id'),
    lastEventAt: tstz('last_event_at'),
    /** Full case content (request fields, subject, response); shown only to the case's units, audited. */
    content: jsonb('content').$type<Record<string, unknown>>().notNull(),
    updatedAt: tstz('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('cases_doc_number_uq').on(t.docNumber),
    index('cases_issuing_due_idx').on(t.issuingUnit, t.status, t.dueAt),
    index('cases_requesting_due_idx').on(t.requestingUnit, t.status, t.dueAt),
    index('cases_subject_hash_idx').on(t.subjectIdHash),
    // Hand-over on absence (assignee's open cases) and calendar re-timing (open cases by deadline).
    index('cases_assignee_idx').on(t.assigneeId, t.status),
    index('cases_status_due_idx').on(t.status, t.dueAt),
    // The lists' sort order (due_at, id) per box, so a page is an index range scan, not a sort of the
    // unit's every case (bench/lists.ts measures both): outbox, the issuer's open inbox, the escalated box.
    index('cases_requesting_list_idx').on(t.requestingUnit, t.dueAt, t.id),
    index('cases_issuing_open_list_idx')
      .on(t.issuingUnit, t.dueAt, t.id)
      .where(sql`status IN ('awaiting_registration', 'registered', 'returned')`),
    index('cases_escalated_list_idx').on(t.dueAt, t.id).where(sql`escalation_level > 0`),
    // The assessment figures' "overdue now" (api/services/stats.ts): the open cases received in a period,
    // read from the index alone (bench/stats.ts: a month's went from a 27,000-page heap scan to this).
    index('cases_open_received_idx')
      .on(t.createdAt, t.issuingUnit, t.tier, t.dueAt)
      .where(sql`status IN ('awaiting_registration', 'registered')`),
  ],
);

/** One escalation of a case, as the assessment figures count it (cases.escalation_facts). */
export interface EscalationFact {
  level: number;
  /** The issuing unit that missed the deadline. */
  unit: string;
  outcome: string | null;
}

export const caseEvents = pgTable(
  'case_events',
  {
    caseId: text('case_id').notNull(),
    seq: integer('seq').notNull(),
    type: text('type').notNull(),
    at: tstz('at').notNull(),
    actorId: text('actor_id'),
    actorUnit: text('actor_unit'),
    /** "B acting for A": the absent colleague this actor stood in for. */
    onBehalfOf: text('on_behalf_of'),
    reason: text('reason'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    /** The workflow run of the event (after a reset, the new run's event replaces the old one's seq). */
    runId: text('run_id'),
  },
  (t) => [primaryKey({ name: 'case_events_pk', columns: [t.caseId, t.seq] })],
);

export const escalations = pgTable(
  'escalations',
  {
    id: text('id').primaryKey(), // `${caseId}:${n}`: the n-th escalation of the case
    caseId: text('case_id').notNull(),
    level: integer('level').notNull(),
    status: text('status').notNull(), // open | ordered | closed
    issuingUnit: text('issuing_unit').notNull(),
    requestingUnit: text('requesting_unit').notNull(),
    openedAt: tstz('opened_at').notNull(),
    missedDueAt: tstz('missed_due_at').notNull(),
    routingNo: integer('routing_no').notNull(),
    orderedDueAt: tstz('ordered_due_at'),
    orderedBy: text('ordered_by'),
    orderNote: text('order_note'),
    caseCompletedAt: tstz('case_completed_at'),
    closedAt: tstz('closed_at'),
    closedBy: text('closed_by'),
    outcome: text('outcome'),
    lastSeq: integer('last_seq').notNull(),
    /**
     * Who was responsible when the deadline was missed (Art. 10, 11): the case's assignee and the unit's
     * liaison on duty at that moment, with their names then. Written once, when the row is created.
     */
    responsible: jsonb('responsible').$type<EscalationResponsible>(),
    /** Ordered deadlines (责成时限) of this escalation that passed unmet, oldest first (from the case's deadlines). */
    missedOrders: jsonb('missed_orders').$type<MissedOrder[]>().notNull().default(sql`'[]'::jsonb`),
    /**
     * The office's judgement on a level-1 escalation (Art. 11): 2 = raised to level 2 because the delay caused
     * harm (造成不良影响), 1 = held at level 1; null = none yet. The latest judgement; each one is also an
     * `escalation_records` row. Written by the API, never by the projection.
     */
    judgedLevel: integer('judged_level'),
    judgedAt: tstz('judged_at'),
    judgedBy: text('judged_by'),
    judgementReason: text('judgement_reason'),
  },
  (t) => [
    index('escalations_case_idx').on(t.caseId),
    index('escalations_status_idx').on(t.status, t.openedAt),
    // The office's list: keyset on (opened_at, id), filtered by issuing unit.
    index('escalations_unit_opened_idx').on(t.issuingUnit, t.openedAt, t.id),
  ],
);

export interface ResponsiblePerson {
  id: string;
  name: string;
}

export interface EscalationResponsible {
  /** When it was determined (the escalation's opening). */
  at: string;
  /** The case's assignee (承办人) then; null when nobody had registered the case. */
  assignee: ResponsiblePerson | null;
  /** The unit's liaisons on duty then (the backup liaison while every liaison was absent). */
  liaisons: ResponsiblePerson[];
  backupActing: boolean;
}

export interface MissedOrder {
  dueAt: string;
  orderedAt: string;
  note: string | null;
}

/**
 * The office's records on an escalation (Art. 11), written by the API: an investigation (组织调查), a
 * judgement on the level (raise to 2 / hold at 1), a request to the city government to interview (约谈) the
 * responsible leaders, and that request's follow-ups (`parentId`). Append-only.
 */
export const escalationRecords = pgTable(
  'escalation_records',
  {
    id: text('id').primaryKey(),
    escalationId: text('escalation_id').notNull(),
    caseId: text('case_id').notNull(),
    kind: text('kind').notNull(), // investigation | level_raised | level_held | interview_request | interview_follow_up
    parentId: text('parent_id'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    recordedBy: text('recorded_by').notNull(),
    recordedByName: text('recorded_by_name').notNull(),
    recordedAt: tstz('recorded_at').notNull(),
  },
  (t) => [index('escalation_records_escalation_idx').on(t.escalationId, t.recordedAt)],
);

export const notifications = pgTable(
  'notifications',
  {
    id: text('id').primaryKey(), // `${eventKey}:${recipientKey}`
    /**
     * The event it tells of (a case event: `${caseId}:${seq}:${type}`; a reminder or escalation by its
     * number; an absence hand-over by the absence). Null on rows from before it was recorded.
     */
    eventKey: text('event_key'),
    /** The recipient: a staff ID, or `unit:CODE` for the unit as a whole. */
    recipientKey: text('recipient_key'),
    caseId: text('case_id'),
    recipientStaffId: text('recipient_staff_id'),
    recipientUnit: text('recipient_unit'),
    kind: text('kind').notNull(),
    message: text('message').notNull(),
    createdAt: tstz('created_at').notNull(),
    readAt: tstz('read_at'),
  },
  (t) => [
    index('notifications_staff_idx').on(t.recipientStaffId, t.createdAt),
    index('notifications_unit_idx').on(t.recipientUnit, t.createdAt),
    // One notification per recipient per event, whoever writes it and however often.
    uniqueIndex('notifications_event_recipient_uq').on(t.eventKey, t.recipientKey),
  ],
);

/** Who has read which notification: unit-wide notifications are read by each person separately. */
export const notificationReads = pgTable(
  'notification_reads',
  {
    notificationId: text('notification_id').notNull(),
    staffId: text('staff_id').notNull(),
    readAt: tstz('read_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: 'notification_reads_pk', columns: [t.staffId, t.notificationId] })],
);

/**
 * Single-use, short-lived tickets for the live inbox stream (EventSource cannot send an Authorization
 * header, and a JWT must not appear in a logged URL). Only the ticket's SHA-256 is kept.
 */
export const streamTickets = pgTable(
  'stream_tickets',
  {
    ticketHash: text('ticket_hash').primaryKey(),
    staffId: text('staff_id').notNull(),
    /** The person's session version when issued: a logout since then invalidates the ticket and stream. */
    sessionVersion: integer('session_version').notNull(),
    expiresAt: tstz('expires_at').notNull(),
  },
  (t) => [index('stream_tickets_expires_idx').on(t.expiresAt)],
);

/** Append-only, MAC-chained audit log (Art. 10, 12): every read of case content and every action. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: tstz('at').notNull(),
    actorId: text('actor_id'),
    actorUnit: text('actor_unit'),
    action: text('action').notNull(),
    caseId: text('case_id'),
    purpose: text('purpose'),
    sourceIp: text('source_ip'),
    outcome: text('outcome').notNull(), // allowed | denied | attempted | error
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    prevHash: text('prev_hash').notNull(),
    /** The row's MAC (column name kept from the unkeyed scheme). */
    hash: text('hash').notNull(),
    /**
     * 1 = legacy unkeyed SHA-256 (rows written before AUDIT_KEY); 2 = HMAC-SHA-256 with AUDIT_KEY;
     * 3 = HMAC-SM3 with AUDIT_KEY (CRYPTO_PROFILE=sm).
     */
    macVersion: smallint('mac_version').notNull().default(1),
  },
  (t) => [
    index('audit_log_case_idx').on(t.caseId),
    index('audit_log_actor_idx').on(t.actorId, t.at),
    // The retention purge finds the first row still within AUDIT_RETENTION_DAYS.
    index('audit_log_at_idx').on(t.at),
  ],
);

/**
 * Where the audit chain now starts (AUDIT_RETENTION_DAYS): each purge of old audit rows records the last
 * purged row (id, MAC, time, MAC version), MACed with the audit key itself, so the verifier starts from the
 * newest checkpoint's MAC instead of the genesis, and nobody without the key can forge a later start.
 */
export const auditCheckpoints = pgTable('audit_checkpoints', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  /** When the purge ran. */
  at: tstz('at').notNull(),
  /** The last purged row: the first remaining row's prev_hash is its MAC. */
  throughId: bigint('through_id', { mode: 'number' }).notNull(),
  throughHash: text('through_hash').notNull(),
  throughAt: tstz('through_at').notNull(),
  throughMacVersion: smallint('through_mac_version').notNull(),
  /** Rows this purge removed, the cut-off instant and the retention in force. */
  purgedRows: bigint('purged_rows', { mode: 'number' }).notNull(),
  cutoff: tstz('cutoff').notNull(),
  retentionDays: integer('retention_days').notNull(),
  /** Who ran it: a staff id (`npm run audit:purge -- --by`) or `scheduler` (the worker's job). */
  purgedBy: text('purged_by').notNull(),
  /** 2 = HMAC-SHA-256, 3 = HMAC-SM3 with the audit key, over the fields above. */
  macVersion: smallint('mac_version').notNull(),
  mac: text('mac').notNull(),
});

/**
 * A client's Idempotency-Key for a start or an action, per unit: the case ID and Update IDs derive from
 * unit + key, so the key's scope is the unit too (a colleague's same key is the same request or a 422).
 * `staffId` is who used it first.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    unitCode: text('unit_code').notNull(),
    staffId: text('staff_id').notNull(),
    key: text('key').notNull(),
    route: text('route').notNull(),
    bodyHash: text('body_hash').notNull(),
    statusCode: integer('status_code'),
    response: jsonb('response'),
    createdAt: tstz('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: 'idempotency_keys_pk', columns: [t.unitCode, t.key] })],
);

/** Files attached to responses (PDF, OFD, JPEG, PNG), kept in PostgreSQL with their SHA-256. */
export const attachments = pgTable(
  'attachments',
  {
    id: text('id').primaryKey(),
    fileName: text('file_name').notNull(),
    mediaType: text('media_type').notNull(),
    sizeBytes: integer('size_bytes').notNull(),
    sha256: text('sha256').notNull(),
    content: bytea('content').notNull(),
    uploadedBy: text('uploaded_by').notNull(),
    uploaderUnit: text('uploader_unit').notNull(),
    /** Set when a response cites it: from then on, the case's units may download it. */
    caseId: text('case_id'),
    createdAt: tstz('created_at').notNull().defaultNow(),
  },
  (t) => [index('attachments_case_idx').on(t.caseId)],
);

/** The requesting unit's ledger (台账, Art. 8): supplement requests after a mismatch and their outcome. */
export const caseLedger = pgTable(
  'case_ledger',
  {
    id: text('id').primaryKey(),
    caseId: text('case_id').notNull(),
    kind: text('kind').notNull(), // supplement_requested | supplement_received | on_site_check | note
    note: text('note').notNull(),
    outcome: text('outcome'),
    recordedBy: text('recorded_by').notNull(),
    recordedUnit: text('recorded_unit').notNull(),
    at: tstz('at').notNull().defaultNow(),
  },
  (t) => [
    index('case_ledger_case_idx').on(t.caseId),
    // The unit's cross-case ledger, newest first (GET /ledger, keyset on (at, id)).
    index('case_ledger_unit_at_idx').on(t.recordedUnit, t.at, t.id),
  ],
);

/** Small key/value facts about this installation (e.g. that the demo seed ran). */
export const systemMeta = pgTable('system_meta', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
  updatedAt: tstz('updated_at').notNull().defaultNow(),
});

/**
 * Rate-limit counters shared by every API process (api/services/rate-limit-store.ts): one row per key and
 * window, so two replicas behind one address give a person one budget, not two.
 */
export const rateLimits = pgTable(
  'rate_limits',
  {
    key: text('key').primaryKey(),
    hits: integer('hits').notNull(),
    resetAt: tstz('reset_at').notNull(),
  },
  (t) => [index('rate_limits_reset_idx').on(t.resetAt)],
);

// ─── Assessment figures (Art. 13): summaries of the read model ──────────────────────────────────
//
// Kept by a trigger on `cases` (migration stats_summaries: stats_on_case_change), which subtracts the
// row's old contribution and adds its new one in the same transaction as the projection, so replays,
// resets and repairs leave them exact. Each figure is kept twice: per Beijing day (`span` = 'day') and per
// Beijing month (`span` = 'month', `start` = the 1st): a year's query reads whole months, a period's
// ragged ends read days. A case counts in the period of the Beijing date it was received (created_at).

/** Counts per side (issuing / requesting unit), span, start, unit and tier. */
export const statCounts = pgTable(
  'stat_counts',
  {
    side: text('side').notNull(), // issuing | requesting
    span: text('span').notNull(), // day | month
    start: date('start', { mode: 'string' }).notNull(),
    unit: text('unit').notNull(),
    tier: text('tier').notNull(),
    /** Issuing: routings received; requesting: cases sent. */
    received: integer('received').notNull().default(0),
    answeredOnTime: integer('answered_on_time').notNull().default(0),
    answeredLate: integer('answered_late').notNull().default(0),
    returned: integer('returned').notNull().default(0),
    reclassified: integer('reclassified').notNull().default(0),
    withdrawn: integer('withdrawn').notNull().default(0),
    open: integer('open').notNull().default(0),
    /** Requesting: answers whose result is not 一致. */
    mismatched: integer('mismatched').notNull().default(0),
    /** Requesting: Art. 7 clock pause, working minutes. */
    waitMinutes: bigint('wait_minutes', { mode: 'number' }).notNull().default(0),
  },
  (t) => [
    primaryKey({ name: 'stat_counts_pk', columns: [t.side, t.span, t.start, t.unit, t.tier] }),
    // A period's rows of both sides (the key leads with the side); counters are not indexed, so the
    // trigger's updates stay HOT.
    index('stat_counts_period_idx').on(t.span, t.start),
  ],
);

/** Histograms of working-minute durations (register, answer, wait): counts per bucket (api/services/stats.ts). */
export const statMinutes = pgTable(
  'stat_minutes',
  {
    measure: text('measure').notNull(), // register | answer (issuing unit) | wait (requesting unit)
    span: text('span').notNull(),
    start: date('start', { mode: 'string' }).notNull(),
    unit: text('unit').notNull(),
    tier: text('tier').notNull(),
    bucket: integer('bucket').notNull(),
    n: integer('n').notNull().default(0),
  },
  (t) => [
    primaryKey({
      name: 'stat_minutes_pk',
      columns: [t.measure, t.span, t.start, t.unit, t.tier, t.bucket],
    }),
    // A period's histograms of every measure (the key leads with the measure), read from the index alone:
    // without it, a sequential scan of every histogram row; without the counts in it, a heap page per row
    // (bench/stats.ts). The trigger's updates then write the index too, a cost it measures.
    index('stat_minutes_period_idx').on(t.span, t.tier, t.start, t.measure, t.unit, t.bucket, t.n),
  ],
);

/** Escalations per unit that missed the deadline, level and outcome ('' while open). */
export const statEscalations = pgTable(
  'stat_escalations',
  {
    span: text('span').notNull(),
    start: date('start', { mode: 'string' }).notNull(),
    unit: text('unit').notNull(),
    tier: text('tier').notNull(),
    level: integer('level').notNull(),
    outcome: text('outcome').notNull(),
    n: integer('n').notNull().default(0),
  },
  (t) => [
    primaryKey({
      name: 'stat_escalations_pk',
      columns: [t.span, t.start, t.unit, t.tier, t.level, t.outcome],
    }),
  ],
);

// ─── Notification channels (钉钉 / 企业微信 group robots, SMS; activities/notification-channels.ts) ──────

/**
 * A unit's group robot: which configured robot (by its name in NOTIFY_DINGTALK_ROBOTS / NOTIFY_WECOM_ROBOTS;
 * the token and secret stay in configuration) receives which kinds of the unit's notifications (none = all).
 */
export const notificationUnitChannels = pgTable('notification_unit_channels', {
  unitCode: text('unit_code')
    .primaryKey()
    .references(() => units.code),
  channel: text('channel').notNull(),
  robot: text('robot').notNull(),
  kinds: jsonb('kinds').$type<string[]>().notNull().default([]),
  updatedBy: text('updated_by').notNull(),
  updatedAt: tstz('updated_at').notNull().defaultNow(),
});

/** A person's own channels beyond in-app (always): the kinds also sent by SMS to their phone. */
export const notificationPersonPrefs = pgTable('notification_person_prefs', {
  staffId: text('staff_id')
    .primaryKey()
    .references(() => staff.id),
  phone: text('phone'),
  smsKinds: jsonb('sms_kinds').$type<string[]>().notNull().default([]),
  updatedAt: tstz('updated_at').notNull().defaultNow(),
});

/** Notifications already turned into deliveries (each exactly once, by whichever process got there first). */
export const notificationFanouts = pgTable('notification_fanouts', {
  notificationId: text('notification_id').primaryKey(),
  at: tstz('at').notNull().defaultNow(),
});

/**
 * The delivery outbox and log: one row per event, channel and recipient (a unit's robot or a person's phone);
 * its id is the idempotency id the vendor message carries. Held until `not_before` (quiet hours), then sent
 * by the worker's drain with retries (`next_attempt_at`, `attempts`) until sent or failed.
 */
export const notificationDeliveries = pgTable(
  'notification_deliveries',
  {
    id: text('id').primaryKey(),
    notificationId: text('notification_id').notNull(),
    eventKey: text('event_key').notNull(),
    channel: text('channel').notNull(),
    /** `unit:CODE` for a unit's robot, the staff ID for a person's SMS. */
    recipient: text('recipient').notNull(),
    unitCode: text('unit_code'),
    robot: text('robot'),
    kind: text('kind').notNull(),
    /** An escalation: sent at once, whatever the hour. */
    urgent: boolean('urgent').notNull().default(false),
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    notBefore: tstz('not_before').notNull(),
    nextAttemptAt: tstz('next_attempt_at').notNull(),
    sentAt: tstz('sent_at'),
    createdAt: tstz('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('notification_deliveries_event_uq').on(t.eventKey, t.channel, t.recipient),
    index('notification_deliveries_due_idx').on(t.status, t.nextAttemptAt),
    index('notification_deliveries_created_idx').on(t.createdAt, t.id),
  ],
);

/**
 * Batches from Excel (批量发起, issue 15): a requesting unit's uploaded list of subjects, validated row by row
 * before anything is sent, then started by a `batchStart` workflow. One batch per (unit, catalog item, file
 * SHA-256): the same file uploaded again is the same batch. `file_hash` is null while the upload is read.
 */
export const batches = pgTable(
  'batches',
  {
    id: text('id').primaryKey(),
    unitCode: text('unit_code').notNull(),
    catalogCode: text('catalog_code').notNull(),
    catalogVersion: integer('catalog_version').notNull(),
    fileName: text('file_name').notNull(),
    fileHash: text('file_hash'),
    /** reading | validated | submitted | completed */
    status: text('status').notNull(),
    total: integer('total').notNull().default(0),
    valid: integer('valid').notNull().default(0),
    invalid: integer('invalid').notNull().default(0),
    createdBy: text('created_by').notNull(),
    createdAt: tstz('created_at').notNull().defaultNow(),
    submittedBy: text('submitted_by'),
    submittedAt: tstz('submitted_at'),
    completedAt: tstz('completed_at'),
  },
  (t) => [
    uniqueIndex('batches_unit_file_uq').on(t.unitCode, t.catalogCode, t.fileHash),
    index('batches_unit_created_idx').on(t.unitCode, t.createdAt),
  ],
);

/**
 * One row of a batch's file (its Excel row number). The subject and fields are sealed like case content
 * (`content`, AAD `<batch id>:<row>`); `subject_masked` is what lists and reports show; `errors` name the
 * column and say what is wrong, never the value.
 */
export const batchRows = pgTable(
  'batch_rows',
  {
    batchId: text('batch_id').notNull(),
    rowNumber: integer('row_number').notNull(),
    /** invalid | valid (not started yet) | started | failed */
    status: text('status').notNull(),
    subjectMasked: text('subject_masked').notNull(),
    content: jsonb('content').$type<Record<string, unknown>>().notNull(),
    errors: jsonb('errors').$type<Array<{ column: string; detail: string }>>().notNull(),
    caseId: text('case_id'),
    docNumber: text('doc_number'),
    failure: text('failure'),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'batch_rows_pk', columns: [t.batchId, t.rowNumber] }),
    index('batch_rows_status_idx').on(t.batchId, t.status, t.rowNumber),
  ],
);

/**
 * Responsibility disputes (职责争议, Art. 7/11): the read model of the `dispute` workflows, one row per dispute,
 * written by `projectDispute` (the newest step wins, by `seq`). At most one open dispute per case (the partial
 * unique index; `open` and `overdue` are open).
 */
export const disputes = pgTable(
  'disputes',
  {
    id: text('id').primaryKey(),
    caseId: text('case_id').notNull(),
    /** The disputing unit (the case's issuing unit when it was filed). */
    unitCode: text('unit_code').notNull(),
    routingNo: integer('routing_no').notNull(),
    requestingUnit: text('requesting_unit').notNull(),
    status: text('status').notNull(),
    reason: text('reason').notNull(),
    suggestedUnit: text('suggested_unit'),
    filedBy: text('filed_by').notNull(),
    filedByName: text('filed_by_name').notNull(),
    filedAt: tstz('filed_at').notNull(),
    dueAt: tstz('due_at'),
    overdueAt: tstz('overdue_at'),
    outcome: text('outcome'),
    targetUnit: text('target_unit'),
    decisionReason: text('decision_reason'),
    decidedBy: text('decided_by'),
    decidedByName: text('decided_by_name'),
    decidedAt: tstz('decided_at'),
    decidedLate: boolean('decided_late'),
    seq: integer('seq').notNull().default(0),
  },
  (t) => [
    uniqueIndex('disputes_one_open_per_case_uq').on(t.caseId).where(sql`${t.status} in ('open', 'overdue')`),
    index('disputes_unit_idx').on(t.unitCode, t.filedAt),
    index('disputes_target_idx').on(t.targetUnit, t.filedAt),
    index('disputes_filed_idx').on(t.filedAt),
  ],
);

// ─── 告知承诺 (seed 004): commitments and the credit records of false ones ─────────────────────────

/**
 * A commitment (告知承诺书) signed instead of a certificate, as the requesting unit recorded it; its after-the-fact
 * check runs as the `commitmentCheck` workflow (ID = id), which writes the status columns. The subject is stored
 * like a case's: masked for lists, a keyed hash for the bar check, the clear identity only in the sealed content.
 */
export const commitments = pgTable(
  'commitments',
  {
    id: text('id').primaryKey(),
    requestingUnit: text('requesting_unit').notNull(),
    issuingUnit: text('issuing_unit').notNull(),
    catalogCode: text('catalog_code').notNull(),
    catalogName: text('catalog_name').notNull(),
    subjectKind: text('subject_kind').notNull(),
    subjectMasked: text('subject_masked').notNull(),
    subjectIdHash: text('subject_id_hash').notNull(),
    /** What the applicant promised (承诺内容). */
    promise: text('promise').notNull(),
    applicationNumber: text('application_number').notNull(),
    serviceName: text('service_name').notNull(),
    signedAt: tstz('signed_at').notNull(),
    recordedBy: text('recorded_by').notNull(),
    recordedAt: tstz('recorded_at').notNull(),
    /** scheduled | checking | awaiting_confirmation | fulfilled | false */
    status: text('status').notNull(),
    checkDueAt: tstz('check_due_at'),
    /** The verification case of the check (its workflow ID) and its document number. */
    caseId: text('case_id'),
    caseDocNumber: text('case_doc_number'),
    /** The case's ending: answered result, or how it closed (退回后办结, 线下核验 …). */
    checkOutcome: text('check_outcome'),
    /** The asked agency's answer or refusal, in writing (the case's response letter or return reason). */
    checkNote: text('check_note'),
    checkedAt: tstz('checked_at'),
    /** The requesting unit's written confirmation: true (属实) or false (不实), with its reasons. */
    decision: text('decision'),
    decisionReason: text('decision_reason'),
    decidedBy: text('decided_by'),
    decidedAt: tstz('decided_at'),
    /** Sealed (domain/content-cipher.ts): the subject and the request letter's fields of the check. */
    content: jsonb('content').$type<Record<string, unknown>>().notNull(),
    updatedAt: tstz('updated_at').notNull(),
  },
  (t) => [
    index('commitments_unit_idx').on(t.requestingUnit, t.recordedAt, t.id),
    index('commitments_subject_idx').on(t.subjectIdHash),
  ],
);

/** 信用记录: a commitment the requesting unit confirmed false; the subject is barred from 告知承诺 until `barredUntil`. */
export const creditRecords = pgTable(
  'credit_records',
  {
    id: text('id').primaryKey(),
    commitmentId: text('commitment_id').notNull(),
    requestingUnit: text('requesting_unit').notNull(),
    subjectKind: text('subject_kind').notNull(),
    subjectMasked: text('subject_masked').notNull(),
    subjectIdHash: text('subject_id_hash').notNull(),
    catalogName: text('catalog_name').notNull(),
    applicationNumber: text('application_number').notNull(),
    reason: text('reason').notNull(),
    recordedBy: text('recorded_by').notNull(),
    recordedAt: tstz('recorded_at').notNull(),
    barredUntil: tstz('barred_until').notNull(),
  },
  (t) => [
    uniqueIndex('credit_records_commitment_uq').on(t.commitmentId),
    index('credit_records_subject_idx').on(t.subjectIdHash, t.barredUntil),
    index('credit_records_unit_idx').on(t.requestingUnit, t.recordedAt),
  ],
);

// ─── Complaints (投诉, Zibo attachment 4) ─────────────────────────────────────────────────────────

/**
 * A complaint's read model, projected by the complaint workflow (workflows/complaint.ts), idempotently on
 * (complaint, seq): accepted by the office, assigned to the unit that handles it, answered within 5 working
 * days (extendable once by at most 5, with the office's approval); overdue ones are escalated to the office.
 */
export const complaints = pgTable(
  'complaints',
  {
    id: text('id').primaryKey(),
    /** The sequence of the last event projected: an older projection never overwrites a newer one. */
    seq: integer('seq').notNull(),
    /** accepted (受理) | assigned (已指派) | answered (已办结答复). */
    status: text('status').notNull(),
    /** The unit complained about (被投诉单位). */
    unitCode: text('unit_code').notNull(),
    /** The unit that handles it (承办单位), once assigned: it sees the complaint. */
    handlingUnit: text('handling_unit'),
    assigneeId: text('assignee_id'),
    assigneeName: text('assignee_name'),
    /** hotline_12345 | window | online | letter | other. */
    channel: text('channel').notNull(),
    /** The channel's ticket number (e.g. the 12345 工单号). */
    ticketNo: text('ticket_no'),
    /** The related verification case, if any (协查 ID). */
    relatedCaseId: text('related_case_id'),
    complainantName: text('complainant_name').notNull(),
    complainantPhone: text('complainant_phone').notNull(),
    content: text('content').notNull(),
    acceptedAt: tstz('accepted_at').notNull(),
    acceptedBy: text('accepted_by').notNull(),
    acceptedByName: text('accepted_by_name').notNull(),
    acceptedUnit: text('accepted_unit').notNull(),
    assignedAt: tstz('assigned_at'),
    /** The answer deadline in force (after an approved extension, the extended one). */
    dueAt: tstz('due_at').notNull(),
    originalDueAt: tstz('original_due_at').notNull(),
    /** Deadline flags of the calendar (e.g. provisional: a year without the official schedule). */
    deadlineFlags: jsonb('deadline_flags').$type<string[]>().notNull().default([]),
    /** The extension request and the office's decision (one per complaint at most approved). */
    extension: jsonb('extension').$type<Record<string, unknown> | null>(),
    escalatedAt: tstz('escalated_at'),
    answeredAt: tstz('answered_at'),
    answeredBy: text('answered_by'),
    answeredByName: text('answered_by_name'),
    answer: text('answer'),
    answeredOnTime: boolean('answered_on_time'),
    updatedAt: tstz('updated_at').notNull(),
  },
  (t) => [
    index('complaints_handling_idx').on(t.handlingUnit, t.acceptedAt),
    index('complaints_unit_idx').on(t.unitCode, t.acceptedAt),
    index('complaints_accepted_idx').on(t.acceptedAt, t.id),
  ],
);

/** Every step of a complaint, attributable to a person (or the system for the escalation). */
export const complaintEvents = pgTable(
  'complaint_events',
  {
    complaintId: text('complaint_id').notNull(),
    seq: integer('seq').notNull(),
    type: text('type').notNull(),
    at: tstz('at').notNull(),
    actorId: text('actor_id'),
    actorName: text('actor_name'),
    actorUnit: text('actor_unit'),
    reason: text('reason'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [primaryKey({ name: 'complaint_events_pk', columns: [t.complaintId, t.seq] })],
);

// ─── List adjustment (清单动态调整, Zibo attachment 3; workflows/catalog-change.ts) ─────────────────────

/**
 * One cause for adjusting the exemption list and the unit's request, as its workflow last projected it
 * (idempotent upsert by id). The proposed item stays in `request`; the version it published in `published_version`.
 */
export const catalogChanges = pgTable(
  'catalog_changes',
  {
    id: text('id').primaryKey(),
    unitCode: text('unit_code').notNull(),
    causeKind: text('cause_kind').notNull(),
    causeDate: date('cause_date', { mode: 'string' }).notNull(),
    causeDescription: text('cause_description').notNull(),
    /** The item concerned by the cause, if it names one. */
    itemCode: text('item_code'),
    recordedBy: text('recorded_by').notNull(),
    recordedAt: tstz('recorded_at').notNull(),
    /** awaiting_filing → filed → approved | rejected. */
    status: text('status').notNull(),
    filingDueAt: tstz('filing_due_at').notNull(),
    filingRemindAt: tstz('filing_remind_at').notNull(),
    reminderSentAt: tstz('reminder_sent_at'),
    /** The filing deadline passed with nothing filed (逾期未申报). */
    filingOverdueAt: tstz('filing_overdue_at'),
    changeType: text('change_type'),
    request: jsonb('request').$type<Record<string, unknown>>(),
    filedBy: text('filed_by'),
    filedAt: tstz('filed_at'),
    /** Filed after the deadline (逾期申报). */
    filedLate: boolean('filed_late').notNull().default(false),
    decisionDueAt: tstz('decision_due_at'),
    decisionOverdueAt: tstz('decision_overdue_at'),
    decidedBy: text('decided_by'),
    decidedAt: tstz('decided_at'),
    decisionReason: text('decision_reason'),
    publishedVersion: integer('published_version'),
    publishedAt: tstz('published_at'),
    /** The workflow's snapshot (actors' names included), as last projected. */
    snapshot: jsonb('snapshot').$type<Record<string, unknown>>().notNull(),
    updatedAt: tstz('updated_at').notNull(),
  },
  (t) => [
    index('catalog_changes_unit_idx').on(t.unitCode, t.recordedAt),
    index('catalog_changes_status_idx').on(t.status),
  ],
);

// ─── Review before an answer goes out (审核; api/services/answer-reviews.ts) ───────────────────────────

/**
 * A draft answer waiting for the unit's reviewer (a leader of the issuing unit): its content sealed like case
 * content (domain/content-cipher.ts, bound to the case); approved → the API sends the case's respond Update as the
 * author; returned → back to the author with the reason.
 */
export const answerReviews = pgTable(
  'answer_reviews',
  {
    id: text('id').primaryKey(),
    caseId: text('case_id').notNull(),
    unitCode: text('unit_code').notNull(),
    /** The draft { result, fields, attachments }, sealed. */
    draft: jsonb('draft').$type<Record<string, unknown>>().notNull(),
    /** The author as the workflow's Actor (the respond Update is sent in their name). */
    author: jsonb('author').$type<Record<string, unknown>>().notNull(),
    authorId: text('author_id').notNull(),
    submittedAt: tstz('submitted_at').notNull(),
    /** pending → approved | returned. */
    status: text('status').notNull(),
    reviewerId: text('reviewer_id'),
    reviewedAt: tstz('reviewed_at'),
    reason: text('reason'),
  },
  (t) => [
    index('answer_reviews_unit_idx').on(t.unitCode, t.status),
    index('answer_reviews_case_idx').on(t.caseId),
  ],
);
