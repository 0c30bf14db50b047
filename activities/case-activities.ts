/**
 * The case workflow's activities, built by a factory from injected dependencies (database, calendar,
 * keys, logger, notifier). Every write is idempotent: activities run at least once.
 */
import { Context } from '@temporalio/activity';
import { and, eq, inArray, isNull, lt, lte, ne, notInArray, or, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client.ts';
import {
  caseEvents,
  caseReplyNumbers,
  cases,
  type EscalationResponsible,
  escalations,
  type MissedOrder,
  notifications,
  replyNumberCounters,
  staff,
  units,
} from '../db/schema.ts';
import { liaisonDuty } from '../db/staffing.ts';
import type { ContentCipher } from '../domain/content-cipher.ts';
import { maskSubject, subjectIdHash } from '../domain/personal-data.ts';
import {
  officeIntervals,
  shanghaiDateOf,
  shanghaiInstant,
  workingDaysAfter,
  workingMinutesBetween,
} from '../domain/working-time/index.ts';
import type {
  CaseActivities,
  NotificationRequest,
  ProjectCaseInput,
} from '../workflows/activity-contract.ts';
import type { CaseSnapshot } from '../workflows/definitions.ts';
import { beijingTime, readableText } from '../workflows/labels.ts';
import type { CalendarSource } from './calendar-source.ts';
import { calculation, unknownUnit } from './failures.ts';
import { allocateDocNumber, deadlineWithReminders } from './opening.ts';

export interface NotificationRow {
  id: string;
  /** The event it tells of (see notificationEventKey); unique with the recipient. */
  eventKey: string;
  /** The staff ID, or `unit:CODE` for a unit as a whole. */
  recipientKey: string;
  caseId: string | null;
  recipientStaffId: string | null;
  recipientUnit: string | null;
  kind: string;
  message: string;
  createdAt: Date;
}

/** Delivery beyond the in-app record (e-mail, webhook, live inbox stream). */
export interface Notifier {
  deliver(rows: NotificationRow[]): Promise<void>;
}

export interface CaseActivityDeps {
  db: Db;
  calendar: CalendarSource;
  /** Key for the subject ID hash (see domain/personal-data.ts). */
  subjectKey: Buffer;
  /** Seals the case content at rest (the payload key; see domain/content-cipher.ts). */
  contentCipher: ContentCipher;
  log: Logger;
  notifier?: Notifier;
  /** Told after a projection is committed (e.g. to push to live inboxes). */
  onProjected?: (snapshot: CaseSnapshot, eventType: string) => void;
  /** The operators' metrics (api/services/metrics.ts); nothing is counted without them. */
  metrics?: ActivityMetrics;
}

/** What the case activities count for the operators' `/metrics`. */
export interface ActivityMetrics {
  /** An escalation of this level was opened (its projection is the first to hold it). */
  escalationFired(level: 1 | 2): void;
  /** A projection the case row took: seconds from its event (workflow time) to the commit. */
  projected(lagSeconds: number): void;
}

const ESCALATION_EVENTS: Record<string, 1 | 2> = { escalated: 1, escalated_level2: 2 };

export function createCaseActivities(deps: CaseActivityDeps): CaseActivities {
  const { db, calendar } = deps;

  return {
    allocateDocNumber: (input) => allocateDocNumber(db, input),

    async allocateReplyNumber({ key, unitCode, at }) {
      return db.transaction(async (tx) => {
        const [existing] = await tx.select().from(caseReplyNumbers).where(eq(caseReplyNumbers.caseId, key));
        if (existing) return existing.replyNumber;
        const [unit] = await tx
          .select({ prefix: units.docPrefix })
          .from(units)
          .where(eq(units.code, unitCode));
        if (!unit) throw unknownUnit(`unknown issuing unit ${unitCode}`);
        const year = Number(shanghaiDateOf(new Date(at)).slice(0, 4));
        const [counter] = await tx
          .insert(replyNumberCounters)
          .values({ unitCode, year, lastValue: 1 })
          .onConflictDoUpdate({
            target: [replyNumberCounters.unitCode, replyNumberCounters.year],
            set: { lastValue: sql`${replyNumberCounters.lastValue} + 1` },
          })
          .returning({ n: replyNumberCounters.lastValue });
        // 淄公协 (its request letters) → 淄公复〔2026〕1号 (its replies).
        const replyNumber = `${unit.prefix.replace(/协$/, '')}复〔${year}〕${counter?.n}号`;
        await tx.insert(caseReplyNumbers).values({ caseId: key, replyNumber });
        return replyNumber;
      });
    },

    computeDeadline: (input) => deadlineWithReminders(calendar, input),

    async nextWorkingOpening({ after }) {
      const { data } = await calendar.current();
      return calculation(() => {
        const next = workingDaysAfter(new Date(after), 1, data);
        const [firstInterval] = officeIntervals(data);
        return shanghaiInstant(next.date, firstInterval?.[0] ?? 9 * 60).toISOString();
      });
    },

    async workingMinutesBetween({ from, to }) {
      const { data } = await calendar.current();
      return calculation(() => Math.round(workingMinutesBetween(new Date(from), new Date(to), data).minutes));
    },

    async projectCase(input) {
      const runId = currentRunId();
      const durations = await routingDurations(calendar, input.snapshot);
      const { rows, accepted } = await db.transaction(async (tx) => {
        const accepted = await writeCaseRow(
          tx as unknown as Db,
          input,
          runId,
          deps.subjectKey,
          deps.contentCipher,
          durations,
        );
        const event = {
          caseId: input.snapshot.caseId,
          seq: input.event.seq,
          type: input.event.type,
          at: new Date(input.event.at),
          actorId: input.event.actorId ?? null,
          actorUnit: input.event.actorUnit ?? null,
          onBehalfOf: input.event.onBehalfOf ?? null,
          reason: input.event.reason ?? null,
          data: input.event.data ?? {},
          runId,
        };
        // The row took this projection: its event is the case's event of that seq (after a reset, the
        // new run's replaces the old run's). Otherwise an older projection: its event only if missing.
        const { caseId: _c, seq: _s, ...changes } = event;
        if (accepted)
          await tx
            .insert(caseEvents)
            .values(event)
            .onConflictDoUpdate({ target: [caseEvents.caseId, caseEvents.seq], set: changes });
        else await tx.insert(caseEvents).values(event).onConflictDoNothing();
        await writeEscalations(tx as unknown as Db, input, accepted);
        return { rows: await writeNotifications(tx as unknown as Db, input), accepted };
      });
      // Counted once: a retried or replayed projection of the same event is not taken again.
      if (accepted && deps.metrics) {
        deps.metrics.projected((Date.now() - Date.parse(input.event.at)) / 1000);
        const level = ESCALATION_EVENTS[input.event.type];
        if (level) deps.metrics.escalationFired(level);
      }
      deps.onProjected?.(input.snapshot, input.event.type);
      if (rows.length && deps.notifier) {
        // In-app records are committed; other channels are best effort and must not fail the case.
        await deps.notifier
          .deliver(rows)
          .catch((err) => deps.log.warn({ err }, 'notification delivery failed'));
      }
    },
  };
}

/**
 * Assessment figures (Art. 13): the current routing's working minutes from its receipt to its registration
 * and to the answer, on the calendar in force now (nulls until they happened).
 */
export async function routingDurations(
  calendar: CalendarSource,
  s: CaseSnapshot,
): Promise<{ registerMinutes: number | null; answerMinutes: number | null }> {
  const registeredAt = s.routing.registeredAt;
  const answeredAt = s.status === 'answered' ? s.answer?.answeredAt : undefined;
  if (!registeredAt && !answeredAt) return { registerMinutes: null, answerMinutes: null };
  const { data } = await calendar.current();
  const from = new Date(s.routing.receivedAt);
  const minutes = (to: string) =>
    calculation(() => Math.max(0, Math.round(workingMinutesBetween(from, new Date(to), data).minutes)));
  return {
    registerMinutes: registeredAt ? await minutes(registeredAt) : null,
    answerMinutes: answeredAt ? await minutes(answeredAt) : null,
  };
}

/** The workflow run of the projection being executed (absent outside an activity: tests, repairs). */
function currentRunId(): string | null {
  try {
    return Context.current().info.workflowExecution?.runId ?? null;
  } catch {
    return null;
  }
}

export function caseColumns(s: CaseSnapshot, seq: number) {
  return {
    docNumber: s.docNumber,
    issuingUnit: s.routing.issuingUnit,
    routingNo: s.routing.routingNo,
    tier: s.tier,
    status: s.status,
    receivedAt: new Date(s.routing.receivedAt),
    dueAt: new Date(s.routing.dueAt),
    flags: s.routing.flags,
    assigneeId: s.assigneeId ?? null,
    registeredAt: s.routing.registeredAt ? new Date(s.routing.registeredAt) : null,
    registeredBy: s.routing.registeredBy ?? null,
    completedAt: s.completion ? new Date(s.completion.at) : null,
    result: s.answer?.result ?? null,
    answer: s.answer ? { ...s.answer } : null,
    late: s.answer?.late ?? false,
    lateMinutes: s.answer?.lateWorkingMinutes ?? null,
    waitedWorkingMinutes: s.waitedWorkingMinutes ?? null,
    deadlines: (s.deadlines ?? []).map((d) => ({ ...d })),
    tierReason: s.tierReason ?? null,
    applicationNumber: s.applicationNumber ?? null,
    replyNumber: s.answer?.replyNumber ?? null,
    waitIntervals: s.waitIntervals ? s.waitIntervals.map((i) => ({ ...i })) : null,
    escalationLevel: Math.max(0, ...s.escalations.filter((e) => e.status !== 'closed').map((e) => e.level)),
    returnCount: s.returns.length,
    escalationFacts: s.escalations.map((e) => ({
      level: e.level,
      unit: e.issuingUnit ?? s.returns[e.routingNo - 1]?.issuingUnit ?? s.routing.issuingUnit,
      outcome: e.outcome ?? null,
    })),
    lastSeq: seq,
    updatedAt: new Date(),
  };
}

/** The columns a case row gets once, from its request. */
function insertColumns(
  s: CaseSnapshot,
  input: NonNullable<ProjectCaseInput['input']>,
  subjectKey: Buffer,
  cipher: ContentCipher,
) {
  return {
    id: s.caseId,
    requestingUnit: s.requestingUnit,
    catalogCode: s.catalog.code,
    catalogVersion: s.catalog.version,
    subjectKind: input.subject.kind,
    subjectMasked: maskSubject(input.subject),
    subjectIdHash: subjectIdHash(subjectKey, input.subject.idNumber, cipher.profile),
    purpose: s.purpose,
    createdBy: s.createdBy,
    createdAt: new Date(s.createdAt),
    // The subject's name and ID number never reach PostgreSQL in clear text.
    content: cipher.seal(s.caseId, {
      subject: input.subject,
      fields: input.fields,
      catalog: input.catalog,
    }) as unknown as Record<string, unknown>,
  };
}

/**
 * Writes the case row if this projection is newer than the one it holds; returns whether it did.
 * Newer means: from the same run (or one unknown) with a higher sequence number, or from another run
 * with a later event — a reset's new run reuses sequence numbers but its events come after every event
 * of the run it replaced (workflow time), while a late write of the replaced run is earlier than them.
 */
async function writeCaseRow(
  tx: Db,
  { snapshot: s, event, input }: ProjectCaseInput,
  runId: string | null,
  subjectKey: Buffer,
  cipher: ContentCipher,
  durations: { registerMinutes: number | null; answerMinutes: number | null },
): Promise<boolean> {
  const columns = { ...caseColumns(s, event.seq), ...durations, runId, lastEventAt: new Date(event.at) };
  if (input) {
    const inserted = await tx
      .insert(cases)
      .values({ ...insertColumns(s, input, subjectKey, cipher), ...columns })
      .onConflictDoNothing()
      .returning({ id: cases.id });
    if (inserted.length) return true;
  }
  // A replayed (older) projection never overwrites a newer one.
  const at = new Date(event.at);
  const sameRun = runId ? or(isNull(cases.runId), eq(cases.runId, runId)) : sql`true`; // no run known: sequence numbers only, as before runs were recorded
  const laterRun = runId
    ? and(
        or(isNull(cases.runId), ne(cases.runId, runId)),
        lt(sql`coalesce(${cases.lastEventAt}, ${cases.updatedAt})`, at),
      )
    : sql`false`;
  const updated = await tx
    .update(cases)
    .set(columns)
    .where(and(eq(cases.id, s.caseId), or(and(sameRun, lt(cases.lastSeq, event.seq)), laterRun)))
    .returning({ id: cases.id });
  return updated.length > 0;
}

/**
 * A repair (npm run cases:reconcile): writes the case row and its escalations from the workflow's own
 * snapshot, whatever the row holds, unless a projection of the same run has gone further meanwhile.
 * A missing row needs the request (`input`, from the workflow's history) for its sealed content.
 * Returns whether it wrote.
 */
export async function reprojectCase(
  db: Db,
  deps: { subjectKey: Buffer; contentCipher: ContentCipher },
  repair: { snapshot: CaseSnapshot; runId: string; input?: ProjectCaseInput['input'] },
): Promise<boolean> {
  const { snapshot: s, runId } = repair;
  const event = { seq: s.seq, type: 'reconciled', at: new Date().toISOString() };
  return db.transaction(async (t) => {
    const tx = t as unknown as Db;
    const columns = { ...caseColumns(s, s.seq), runId };
    let wrote = false;
    if (repair.input) {
      const inserted = await tx
        .insert(cases)
        .values({ ...insertColumns(s, repair.input, deps.subjectKey, deps.contentCipher), ...columns })
        .onConflictDoNothing()
        .returning({ id: cases.id });
      wrote = inserted.length > 0;
    }
    if (!wrote) {
      const updated = await tx
        .update(cases)
        .set(columns)
        .where(
          and(
            eq(cases.id, s.caseId),
            or(isNull(cases.runId), ne(cases.runId, runId), lte(cases.lastSeq, s.seq)),
          ),
        )
        .returning({ id: cases.id });
      wrote = updated.length > 0;
    }
    if (wrote) await writeEscalations(tx, { snapshot: s, event }, true);
    return wrote;
  });
}

/**
 * The case's escalations from the snapshot. A projection the case row took (`authoritative`) writes them
 * as they are, dropping any the snapshot no longer has (a reset to before they opened); otherwise only
 * rows with an older sequence number change.
 */
export async function writeEscalations(
  tx: Db,
  { snapshot: s, event }: Pick<ProjectCaseInput, 'snapshot' | 'event'>,
  authoritative = false,
) {
  if (authoritative)
    await tx
      .delete(escalations)
      .where(
        and(
          eq(escalations.caseId, s.caseId),
          notInArray(escalations.id, ['', ...s.escalations.map((_, i) => `${s.caseId}:${i + 1}`)]),
        ),
      );
  // Rows this projection creates get who was responsible at that moment; existing rows keep theirs.
  const known = s.escalations.length
    ? new Set(
        (
          await tx.select({ id: escalations.id }).from(escalations).where(eq(escalations.caseId, s.caseId))
        ).map((r) => r.id),
      )
    : new Set<string>();
  for (const [i, e] of s.escalations.entries()) {
    const id = `${s.caseId}:${i + 1}`;
    const responsible = known.has(id) ? undefined : await responsibleAt(tx, s, i);
    const values = {
      id,
      caseId: s.caseId,
      level: e.level,
      routingNo: e.routingNo,
      status: e.status,
      // The unit that missed the deadline, not the one the case was re-routed to since. (Escalations
      // opened before the field existed: routing n ended with the n-th return, if it was returned.)
      issuingUnit: e.issuingUnit ?? s.returns[e.routingNo - 1]?.issuingUnit ?? s.routing.issuingUnit,
      requestingUnit: s.requestingUnit,
      openedAt: new Date(e.openedAt),
      missedDueAt: new Date(e.missedDueAt),
      orderedDueAt: e.orderedDueAt ? new Date(e.orderedDueAt) : null,
      orderedBy: e.orderedBy ?? null,
      orderNote: e.orderNote ?? null,
      caseCompletedAt: e.caseCompletedAt ? new Date(e.caseCompletedAt) : null,
      closedAt: e.closedAt ? new Date(e.closedAt) : null,
      closedBy: e.closedBy ?? null,
      outcome: e.outcome ?? null,
      missedOrders: missedOrdersOf(s, i),
      lastSeq: event.seq,
    };
    const { id: _id, ...changes } = values;
    await tx
      .insert(escalations)
      .values({ ...values, ...(responsible ? { responsible } : {}) })
      .onConflictDoUpdate({
        target: escalations.id,
        set: changes,
        ...(authoritative ? {} : { setWhere: lt(escalations.lastSeq, event.seq) }),
      });
  }
}

/**
 * The ordered deadlines (责成时限) of the i-th escalation that passed unmet: every office order given while it
 * was the routing's current escalation, except one superseded by a later order before it fell due and the one
 * still in force (a missed order is cleared from the escalation by the workflow, which opens level 2 or tells
 * the office). So a level-1 record keeps the order it missed once level 2 has opened.
 */
export function missedOrdersOf(s: CaseSnapshot, i: number): MissedOrder[] {
  const e = s.escalations[i];
  if (!e) return [];
  const next = s.escalations.slice(i + 1).find((x) => x.routingNo === e.routingNo);
  const opened = Date.parse(e.openedAt);
  const until = next ? Date.parse(next.openedAt) : Number.POSITIVE_INFINITY;
  const orders = (s.deadlines ?? []).filter(
    (d) =>
      d.kind === 'ordered' &&
      d.routingNo === e.routingNo &&
      Date.parse(d.from) >= opened &&
      Date.parse(d.from) < until,
  );
  return orders
    .filter((d, k) => {
      const later = orders[k + 1];
      if (later) return Date.parse(d.dueAt) <= Date.parse(later.from);
      return !e.orderedDueAt || Date.parse(e.orderedDueAt) !== Date.parse(d.dueAt);
    })
    .map((d) => ({ dueAt: d.dueAt, orderedAt: d.from, note: d.reason || null }));
}

/**
 * Who was responsible when the i-th escalation's deadline was missed: the case's assignee (when the
 * escalation is on the current routing) and the issuing unit's liaisons on duty at its opening.
 */
async function responsibleAt(tx: Db, s: CaseSnapshot, i: number): Promise<EscalationResponsible | undefined> {
  const e = s.escalations[i];
  if (!e) return undefined;
  const unit = e.issuingUnit ?? s.routing.issuingUnit;
  const at = new Date(e.openedAt);
  const assigneeId = e.routingNo === s.routing.routingNo ? s.assigneeId : undefined;
  const [assignee] = assigneeId
    ? await tx.select({ id: staff.id, name: staff.displayName }).from(staff).where(eq(staff.id, assigneeId))
    : [];
  const duty = await liaisonDuty(tx, unit, at);
  return {
    at: e.openedAt,
    assignee: assignee ?? (assigneeId ? { id: assigneeId, name: assigneeId } : null),
    liaisons: duty.recipients,
    backupActing: duty.backupActing,
  };
}

/**
 * Art. 11: the issuing unit's leaders (`staff.is_leader`) are told, one notification each, when its
 * escalation reaches level 2 — unless the office already raised this routing's escalation to level 2 by
 * judgement (they were told then).
 */
async function leaderNotifications(
  tx: Db,
  input: ProjectCaseInput,
  eventKey: string,
): Promise<NotificationRow[]> {
  if (input.event.type !== 'escalated_level2') return [];
  const s = input.snapshot;
  const esc = s.escalations.findLast((e) => e.level === 2);
  if (!esc) return [];
  const unit = esc.issuingUnit ?? s.routing.issuingUnit;
  const [raised] = await tx
    .select({ id: escalations.id })
    .from(escalations)
    .where(
      and(
        eq(escalations.caseId, s.caseId),
        eq(escalations.routingNo, esc.routingNo),
        eq(escalations.judgedLevel, 2),
      ),
    )
    .limit(1);
  if (raised) return [];
  const leaders = await unitLeaders(tx, unit);
  return leaders.map((l) => ({
    id: `${eventKey}:${l.id}`,
    eventKey,
    recipientKey: l.id,
    caseId: s.caseId,
    recipientStaffId: l.id,
    recipientUnit: null,
    kind: 'escalation_level2_leader',
    message: level2LeaderMessage(s.docNumber, esc.missedDueAt, input.event.at, '逾期未在责成时限内办结'),
    createdAt: new Date(input.event.at),
  }));
}

/** The active leaders of a unit. */
export async function unitLeaders(db: Db, unitCode: string): Promise<{ id: string; name: string }[]> {
  return db
    .select({ id: staff.id, name: staff.displayName })
    .from(staff)
    .where(and(eq(staff.unitCode, unitCode), eq(staff.isLeader, true), eq(staff.active, true)));
}

/** The leader's notice of a level-2 escalation, in Chinese with Beijing times. */
export function level2LeaderMessage(docNumber: string, missedDueAt: string, at: string, why: string): string {
  return `【第二级督办】协查 ${docNumber} ${why}（错过的时限：${beijingTime(missedDueAt)}），已于 ${beijingTime(at)} 升为第二级督办（建议约谈相关责任人），请本单位负责人督促办理。`;
}

async function recipients(
  tx: Db,
  s: CaseSnapshot,
  req: NotificationRequest,
): Promise<{ staffId?: string; unit?: string }[]> {
  const audience = req.audience;
  if (typeof audience === 'object') return [{ staffId: audience.staffId }];
  switch (audience) {
    case 'requesting_unit':
      return [{ unit: s.requestingUnit }];
    case 'office': {
      const offices = await tx.select({ code: units.code }).from(units).where(eq(units.kind, 'office'));
      return offices.map((o) => ({ unit: o.code }));
    }
    case 'issuing_unit': {
      const people = await tx
        .select({ id: staff.id })
        .from(staff)
        .where(
          and(
            eq(staff.unitCode, s.routing.issuingUnit),
            inArray(staff.role, ['agent', 'liaison']),
            eq(staff.active, true),
          ),
        );
      // Each person of the unit, by name: a unit-wide row as well would reach every one of them twice.
      return people.length ? people.map((p) => ({ staffId: p.id })) : [{ unit: s.routing.issuingUnit }];
    }
    case 'assignee_and_backup': {
      if (!s.assigneeId) return recipients(tx, s, { ...req, audience: 'issuing_unit' });
      const [assignee] = await tx
        .select({ partnerId: staff.partnerId, role: staff.role, unitCode: staff.unitCode })
        .from(staff)
        .where(eq(staff.id, s.assigneeId));
      if (assignee?.partnerId) return [{ staffId: s.assigneeId }, { staffId: assignee.partnerId }];
      // A liaison without an A/B partner: while the unit's liaisons are absent, its backup liaison is B.
      if (assignee?.role === 'liaison') {
        const duty = await liaisonDuty(tx, assignee.unitCode);
        if (duty.backupActing && duty.backup) return [{ staffId: s.assigneeId }, { staffId: duty.backup.id }];
      }
      return [{ staffId: s.assigneeId }];
    }
  }
}

/**
 * What a case event's notifications are about, the same each time the projection runs: the case and its
 * event; for a reminder its routing, number and deadline, for an escalation its place among the case's
 * escalations (a reset run that fires them again under other sequence numbers finds them sent).
 */
export function notificationEventKey({
  snapshot: s,
  event,
}: Pick<ProjectCaseInput, 'snapshot' | 'event'>): string {
  const data = (event.data ?? {}) as { n?: unknown; dueAt?: unknown };
  if (event.type === 'reminder_sent' && typeof data.n === 'number')
    return `${s.caseId}:reminder:${s.routing.routingNo}:${data.n}:${String(data.dueAt ?? s.routing.dueAt)}`;
  if (event.type === 'escalated' || event.type === 'escalated_level2')
    return `${s.caseId}:escalation:${s.escalations.length}`;
  return `${s.caseId}:${event.seq}:${event.type}`;
}

/**
 * One notification per person (or unit) per event, however many ways the event's notices reach them (a
 * liaison who is the assignee and a member of the issuing unit gets one). The text is written as people
 * read it (workflows/labels.ts). Returns the rows written now only: a projection that runs again (a retry,
 * a replayed local activity) writes and delivers nothing twice — the unique (event_key, recipient_key)
 * index holds that in the database too.
 */
async function writeNotifications(tx: Db, input: ProjectCaseInput): Promise<NotificationRow[]> {
  const eventKey = notificationEventKey(input);
  // A leader of the issuing unit gets the leader's notice of a level-2 escalation, the more specific one,
  // instead of the general notice the same event may also send them.
  const rows: NotificationRow[] = await leaderNotifications(tx, input, eventKey);
  const seen = new Set<string>(rows.map((r) => r.recipientKey));
  for (const req of input.notifications ?? []) {
    for (const r of await recipients(tx, input.snapshot, req)) {
      const recipientKey = r.staffId ?? `unit:${r.unit}`;
      if (seen.has(recipientKey)) continue;
      seen.add(recipientKey);
      rows.push({
        id: `${eventKey}:${recipientKey}`,
        eventKey,
        recipientKey,
        caseId: input.snapshot.caseId,
        recipientStaffId: r.staffId ?? null,
        recipientUnit: r.unit ?? null,
        kind: req.kind,
        message: readableText(req.message),
        createdAt: new Date(input.event.at),
      });
    }
  }
  return insertNotifications(tx, rows);
}

/** Inserts the rows that are not there yet (by ID or by event and recipient); returns those it wrote. */
export async function insertNotifications(db: Db, rows: NotificationRow[]): Promise<NotificationRow[]> {
  if (!rows.length) return [];
  const written = await db
    .insert(notifications)
    .values(rows)
    .onConflictDoNothing()
    .returning({ id: notifications.id });
  const fresh = new Set(written.map((w) => w.id));
  return rows.filter((r) => fresh.has(r.id));
}
