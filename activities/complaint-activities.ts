/**
 * The complaint workflow's activities (workflows/complaint.ts): its working-time deadlines on the city's
 * calendar, and its projection into `complaints`, `complaint_events` and `notifications`. Every write is
 * idempotent on (complaint, seq): activities run at least once.
 */
import { and, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { complaintEvents, complaints, staff, units } from '../db/schema.ts';
import { nextOpening, workingDaysAfter } from '../domain/working-time/index.ts';
import type { ComplaintActivities } from '../workflows/complaint.ts';
import type { ComplaintNotice, ComplaintSnapshot } from '../workflows/complaint-definitions.ts';
import { readableText } from '../workflows/labels.ts';
import type { CalendarSource } from './calendar-source.ts';
import { insertNotifications, type NotificationRow, type Notifier } from './case-activities.ts';
import { calculation } from './failures.ts';

export interface ComplaintActivityDeps {
  db: Db;
  calendar: CalendarSource;
  notifier?: Notifier;
}

/** The complaint's row columns from its state (the API reads them; the list masks the phone). */
export function complaintColumns(s: ComplaintSnapshot, at: string) {
  const ext = s.extensions.at(-1);
  return {
    id: s.complaintId,
    seq: s.seq,
    status: s.status,
    unitCode: s.unitCode,
    handlingUnit: s.handlingUnit ?? null,
    assigneeId: s.assignee?.staffId ?? null,
    assigneeName: s.assignee?.name ?? null,
    channel: s.channel,
    ticketNo: s.ticketNo ?? null,
    relatedCaseId: s.relatedCaseId ?? null,
    complainantName: s.complainant.name,
    complainantPhone: s.complainant.phone,
    content: s.content,
    acceptedAt: new Date(s.acceptedAt),
    acceptedBy: s.acceptedBy.staffId,
    acceptedByName: s.acceptedBy.name,
    acceptedUnit: s.acceptedBy.unitCode,
    assignedAt: s.assignedAt ? new Date(s.assignedAt) : null,
    dueAt: new Date(s.dueAt),
    originalDueAt: new Date(s.originalDueAt),
    deadlineFlags: s.deadlineFlags,
    extension: ext ? { ...ext, count: s.extensions.length } : null,
    escalatedAt: s.escalatedAt ? new Date(s.escalatedAt) : null,
    answeredAt: s.answer ? new Date(s.answer.at) : null,
    answeredBy: s.answer?.by.staffId ?? null,
    answeredByName: s.answer?.by.name ?? null,
    answer: s.answer?.text ?? null,
    answeredOnTime: s.answer ? s.answer.onTime : null,
    updatedAt: new Date(at),
  };
}

/** Who a notice reaches: staff IDs, or a unit as a whole when it has nobody to name. */
async function recipients(
  db: Db,
  s: ComplaintSnapshot,
  audience: ComplaintNotice['audience'],
): Promise<{ staffId?: string; unit?: string }[]> {
  if (audience === 'office_supervisors') {
    const people = await db
      .select({ id: staff.id, unit: staff.unitCode })
      .from(staff)
      .innerJoin(units, eq(units.code, staff.unitCode))
      .where(and(eq(units.kind, 'office'), eq(staff.role, 'supervisor'), eq(staff.active, true)));
    return people.map((p) => ({ staffId: p.id }));
  }
  if (!s.handlingUnit) return [];
  const liaisons = await db
    .select({ id: staff.id })
    .from(staff)
    .where(and(eq(staff.unitCode, s.handlingUnit), eq(staff.role, 'liaison'), eq(staff.active, true)));
  const ids = new Set(liaisons.map((l) => l.id));
  if (s.assignee) ids.add(s.assignee.staffId);
  return ids.size ? [...ids].map((staffId) => ({ staffId })) : [{ unit: s.handlingUnit }];
}

export function createComplaintActivities(deps: ComplaintActivityDeps): ComplaintActivities {
  const { db, calendar } = deps;
  return {
    async complaintDeadline({ at, days, mode }) {
      const { data, rules } = await calendar.current();
      return calculation(() => {
        const from =
          mode === 'receipt' && rules.offHoursReceipt === 'next-opening'
            ? nextOpening(new Date(at), data)
            : new Date(at);
        const due = workingDaysAfter(from, days, data);
        return { dueAt: due.closeAt.toISOString(), flags: [...due.flags] };
      });
    },

    async projectComplaint({ snapshot, event, notices }) {
      const rows = await db.transaction(async (tx) => {
        const t = tx as unknown as Db;
        const cols = complaintColumns(snapshot, event.at);
        // A newer projection is never overwritten by an older one (retries, replays).
        await t
          .insert(complaints)
          .values(cols)
          .onConflictDoUpdate({
            target: complaints.id,
            set: cols,
            setWhere: lt(complaints.seq, cols.seq),
          });
        await t
          .insert(complaintEvents)
          .values({
            complaintId: snapshot.complaintId,
            seq: event.seq,
            type: event.type,
            at: new Date(event.at),
            actorId: event.actor?.staffId ?? null,
            actorName: event.actor?.name ?? null,
            actorUnit: event.actor?.unitCode ?? null,
            reason: event.reason ?? null,
            data: event.data ?? {},
          })
          .onConflictDoNothing();
        const eventKey = `complaint:${snapshot.complaintId}:${event.seq}:${event.type}`;
        const out: NotificationRow[] = [];
        const seen = new Set<string>();
        for (const notice of notices) {
          for (const r of await recipients(t, snapshot, notice.audience)) {
            const recipientKey = r.staffId ?? `unit:${r.unit}`;
            if (seen.has(recipientKey)) continue;
            seen.add(recipientKey);
            out.push({
              id: `${eventKey}:${recipientKey}`,
              eventKey,
              recipientKey,
              caseId: null,
              recipientStaffId: r.staffId ?? null,
              recipientUnit: r.unit ?? null,
              kind: notice.kind,
              message: readableText(notice.message),
              createdAt: new Date(event.at),
            });
          }
        }
        return insertNotifications(t, out);
      });
      if (rows.length && deps.notifier) await deps.notifier.deliver(rows).catch(() => {});
    },
  };
}

/** Complaint counts per unit complained about, for the Art. 13 figures (accepted in [start, end)). */
export async function complaintCounts(db: Db, start: Date, end: Date, now: Date, unit?: string) {
  const rows = await db
    .select({
      unit: complaints.unitCode,
      received: sql<string>`count(*)`,
      answeredOnTime: sql<string>`count(*) filter (where ${complaints.answeredOnTime} = true)`,
      answeredLate: sql<string>`count(*) filter (where ${complaints.answeredOnTime} = false)`,
      overdue: sql<string>`count(*) filter (where ${complaints.answeredOnTime} = false or ${complaints.escalatedAt} is not null or (${complaints.answeredAt} is null and ${complaints.dueAt} < ${now.toISOString()}::timestamptz))`,
      escalated: sql<string>`count(*) filter (where ${complaints.escalatedAt} is not null)`,
    })
    .from(complaints)
    .where(
      and(
        gte(complaints.acceptedAt, start),
        lt(complaints.acceptedAt, end),
        unit ? eq(complaints.unitCode, unit) : undefined,
      ),
    )
    .groupBy(complaints.unitCode);
  const names = rows.length
    ? await db
        .select({ code: units.code, name: units.name })
        .from(units)
        .where(
          inArray(
            units.code,
            rows.map((r) => r.unit),
          ),
        )
    : [];
  const nameOf = new Map(names.map((u) => [u.code, u.name]));
  return rows
    .map((r) => ({
      unitId: r.unit,
      unitName: nameOf.get(r.unit) ?? r.unit,
      received: Number(r.received),
      answeredOnTime: Number(r.answeredOnTime),
      answeredLate: Number(r.answeredLate),
      overdue: Number(r.overdue),
      escalated: Number(r.escalated),
    }))
    .sort((a, b) => a.unitId.localeCompare(b.unitId));
}
