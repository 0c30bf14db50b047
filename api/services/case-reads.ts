/**
 * Reading cases from the read model, with unit isolation (Art. 12): a case is visible to all staff of
 * its requesting unit and of its current issuing unit; a unit that returned it keeps its own part only;
 * supervisors see escalated cases; administrators and the city government's reviewer see no case content. Anything else is "not found",
 * so nobody learns that a case exists, and the attempt is audited.
 */
import { and, asc, count, eq, gt, inArray, lt, notInArray, type SQL, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Db } from '../../db/client.ts';
import {
  attachments,
  caseEvents,
  caseLedger,
  cases,
  catalogItems,
  escalations,
  staff,
  units,
} from '../../db/schema.ts';
import type { ContentCipher } from '../../domain/content-cipher.ts';
import { maskIdNumber, maskName } from '../../domain/personal-data.ts';
import { type DeadlineRecord, isSystemActorId } from '../../workflows/definitions.ts';
import type { StaffContext } from '../plugins/auth.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';

export type CaseRow = typeof cases.$inferSelect;
type DeadlineView = DeadlineRecord;
export type CaseAccess = 'full' | 'returned_part' | 'none';

const OPEN_STATUSES = ['awaiting_registration', 'registered', 'returned'];
/**
 * What is still to do for the issuing unit: a case it returned is the requester's to re-route or close, so
 * it leaves the issuer's open list (待办) and counts as done (已办) there.
 */
const ISSUER_OPEN_STATUSES = ['awaiting_registration', 'registered'];

/** Every status a case can have (the `status` filter refuses anything else, naming the field). */
export const CASE_STATUSES = [
  'awaiting_registration',
  'registered',
  'returned',
  'answered',
  'withdrawn',
  'closed_after_return',
  'offline',
  'applicant_supplied',
  'terminated',
] as const;

/** The statuses that are open in a box: the issuer's inbox leaves returned cases out. */
export const openStatusesOf = (box: 'inbox' | 'outbox' | 'escalated'): string[] =>
  box === 'inbox' ? ISSUER_OPEN_STATUSES : OPEN_STATUSES;

export async function caseAccess(db: Db, who: StaffContext, row: CaseRow): Promise<CaseAccess> {
  if (who.role === 'admin' || who.role === 'reviewer') return 'none';
  if (who.unitCode === row.requestingUnit || who.unitCode === row.issuingUnit) return 'full';
  if (who.role === 'supervisor') {
    const [esc] = await db
      .select({ id: escalations.id })
      .from(escalations)
      .where(eq(escalations.caseId, row.id))
      .limit(1);
    return esc ? 'full' : 'none';
  }
  const [returned] = await db
    .select({ seq: caseEvents.seq })
    .from(caseEvents)
    .where(
      and(
        eq(caseEvents.caseId, row.id),
        eq(caseEvents.type, 'returned'),
        eq(caseEvents.actorUnit, who.unitCode),
      ),
    )
    .limit(1);
  return returned ? 'returned_part' : 'none';
}

export async function findCase(db: Db, id: string): Promise<CaseRow | undefined> {
  const [row] = await db.select().from(cases).where(eq(cases.id, id));
  return row;
}

/** The columns a list row shows: lists read these alone, never the case content or its letters. */
const SUMMARY_COLUMNS = {
  id: cases.id,
  docNumber: cases.docNumber,
  status: cases.status,
  tier: cases.tier,
  requestingUnit: cases.requestingUnit,
  issuingUnit: cases.issuingUnit,
  catalogCode: cases.catalogCode,
  subjectMasked: cases.subjectMasked,
  purpose: cases.purpose,
  receivedAt: cases.receivedAt,
  dueAt: cases.dueAt,
  flags: cases.flags,
  assigneeId: cases.assigneeId,
  registeredAt: cases.registeredAt,
  completedAt: cases.completedAt,
  result: cases.result,
  late: cases.late,
  lateMinutes: cases.lateMinutes,
  escalationLevel: cases.escalationLevel,
  routingNo: cases.routingNo,
  deadlines: cases.deadlines,
  createdAt: cases.createdAt,
} as const;

type SummaryRow = Pick<CaseRow, keyof typeof SUMMARY_COLUMNS>;

/**
 * The deadline in force for the issuing unit now: the latest of its routing's deadlines (an office order
 * replaces the missed one while the escalation is open), else the routing's own. `ordered` when the office
 * set it (责成限时办结).
 */
export function deadlineInForce(
  row: Pick<CaseRow, 'dueAt' | 'routingNo' | 'deadlines' | 'escalationLevel'>,
): {
  dueAt: Date;
  ordered: boolean;
} {
  const own = ((row.deadlines ?? []) as { routingNo?: number; dueAt?: string; kind?: string }[]).filter(
    (d) => d.routingNo === row.routingNo && typeof d.dueAt === 'string',
  );
  const last = own[own.length - 1];
  if (last?.kind === 'ordered' && row.escalationLevel > 0)
    return { dueAt: new Date(last.dueAt as string), ordered: true };
  return { dueAt: row.dueAt, ordered: false };
}

export function summary(row: SummaryRow & { catalogName?: string | null; assigneeName?: string | null }) {
  const inForce = deadlineInForce(row);
  return {
    id: row.id,
    docNumber: row.docNumber,
    status: row.status,
    tier: row.tier,
    requestingUnit: row.requestingUnit,
    issuingUnit: row.issuingUnit,
    catalogCode: row.catalogCode,
    catalogName: row.catalogName ?? null,
    subject: row.subjectMasked,
    purpose: row.purpose,
    receivedAt: row.receivedAt.toISOString(),
    dueAt: row.dueAt.toISOString(),
    flags: row.flags,
    assigneeId: row.assigneeId,
    assigneeName: row.assigneeName ?? null,
    registeredAt: row.registeredAt?.toISOString() ?? null,
    completedAt: row.completedAt?.toISOString() ?? null,
    result: row.result,
    late: row.late,
    lateMinutes: row.lateMinutes,
    escalationLevel: row.escalationLevel,
    overdue: !row.completedAt && row.status !== 'returned' && row.dueAt.getTime() < Date.now(),
    dueInForce: inForce.dueAt.toISOString(),
    orderedDueAt: inForce.ordered ? inForce.dueAt.toISOString() : null,
    createdAt: row.createdAt.toISOString(),
  };
}

export interface ListFilters {
  box: 'inbox' | 'outbox' | 'escalated';
  status?: string[];
  tier?: string;
  overdue?: boolean;
  dueBefore?: string;
  assignedToMe?: boolean;
  unregistered?: boolean;
  catalogCode?: string;
  createdFrom?: string;
  createdTo?: string;
  /** Part of the document number (文号), as typed: `123` finds 淄人协〔2026〕123号. */
  docNumber?: string;
  /** Part of the masked subject as lists show it (`张*`, the last digits `002X`): never the full ID number. */
  subject?: string;
  /** One hash, or the ID's hash under each crypto profile (any matches). */
  subjectIdHash?: string | string[];
  /** Open cases of the box (待办); for the issuer's inbox a returned case is not open. */
  open?: boolean;
  /** Cases no longer open in the box (已办): the complement of `open`. */
  done?: boolean;
  cursor?: string;
  limit: number;
}

/** Cursor = the last row's (due_at, id): stable under inserts, sorted by deadline. */
export const encodeCaseCursor = (row: Pick<CaseRow, 'dueAt' | 'id'>): string =>
  encodeCursor(row.dueAt, row.id);

/** `%`, `_` and `\` typed by a person match themselves in a LIKE pattern. */
const likeContains = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * The conditions of a list: the box (the person's unit, or escalated cases for the office) first, so
 * every query runs inside the unit's index range; the filters narrow it. Without the cursor: the total and
 * the export use the same conditions as the pages.
 */
export function listConditions(who: StaffContext, f: Omit<ListFilters, 'limit' | 'cursor'>): SQL | undefined {
  const where: (SQL | undefined)[] = [];
  if (f.box === 'inbox') where.push(eq(cases.issuingUnit, who.unitCode));
  else if (f.box === 'outbox') where.push(eq(cases.requestingUnit, who.unitCode));
  else where.push(gt(cases.escalationLevel, 0));
  if (f.status?.length) where.push(inArray(cases.status, f.status));
  if (f.open) where.push(inArray(cases.status, openStatusesOf(f.box)));
  if (f.done) where.push(notInArray(cases.status, openStatusesOf(f.box)));
  if (f.tier) where.push(eq(cases.tier, f.tier as CaseRow['tier']));
  if (f.overdue === true)
    where.push(
      and(lt(cases.dueAt, new Date()), inArray(cases.status, ['awaiting_registration', 'registered'])),
    );
  if (f.dueBefore) where.push(lt(cases.dueAt, new Date(f.dueBefore)));
  if (f.assignedToMe) where.push(eq(cases.assigneeId, who.id));
  if (f.unregistered) where.push(eq(cases.status, 'awaiting_registration'));
  if (f.catalogCode) where.push(eq(cases.catalogCode, f.catalogCode));
  if (f.createdFrom) where.push(sql`${cases.createdAt} >= ${new Date(f.createdFrom)}`);
  if (f.createdTo) where.push(lt(cases.createdAt, new Date(f.createdTo)));
  if (f.docNumber?.trim()) where.push(sql`${cases.docNumber} LIKE ${likeContains(f.docNumber.trim())}`);
  if (f.subject?.trim()) where.push(sql`${cases.subjectMasked} LIKE ${likeContains(f.subject.trim())}`);
  if (typeof f.subjectIdHash === 'string') where.push(eq(cases.subjectIdHash, f.subjectIdHash));
  else if (f.subjectIdHash) where.push(inArray(cases.subjectIdHash, f.subjectIdHash));
  return and(...where);
}

const assignee = alias(staff, 'assignee');

/** One page of a list after `cursor` (the keyset), with the next cursor. */
async function pageOf(db: Db, base: SQL | undefined, limit: number, cursor?: string) {
  const after = cursor !== undefined ? decodeCursor(cursor) : undefined;
  const where = after
    ? // A row-value comparison, which PostgreSQL turns into one index range condition on (due_at, id).
      and(base, sql`(${cases.dueAt}, ${cases.id}) > (${after[0]}, ${after[1]})`)
    : base;
  const rows = await db
    .select({ c: SUMMARY_COLUMNS, catalogName: catalogItems.name, assigneeName: assignee.displayName })
    .from(cases)
    .leftJoin(
      catalogItems,
      and(eq(catalogItems.code, cases.catalogCode), eq(catalogItems.version, cases.catalogVersion)),
    )
    .leftJoin(assignee, eq(assignee.id, cases.assigneeId))
    .where(where)
    .orderBy(asc(cases.dueAt), asc(cases.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map((r) => summary({ ...r.c, catalogName: r.catalogName, assigneeName: r.assigneeName })),
    nextCursor: rows.length > limit && last ? encodeCaseCursor(last.c) : null,
  };
}

/** The number of cases matching the conditions (every page), for "共 N 条", the pager and tab counts. */
export async function countCases(db: Db, where: SQL | undefined): Promise<number> {
  const [row] = await db.select({ n: count() }).from(cases).where(where);
  return row?.n ?? 0;
}

export async function listCases(db: Db, who: StaffContext, f: ListFilters) {
  const base = listConditions(who, f);
  const [page, total] = await Promise.all([pageOf(db, base, f.limit, f.cursor), countCases(db, base)]);
  return { ...page, total };
}

/**
 * Every row of a list in its order, page by page on the keyset (for the export): `pageSize` rows at a time,
 * at most `max` rows; the caller writes each page before the next is read.
 */
export async function* listAllCases(
  db: Db,
  who: StaffContext,
  f: Omit<ListFilters, 'limit' | 'cursor'>,
  max: number,
  pageSize = 500,
): AsyncGenerator<ReturnType<typeof summary>[]> {
  const base = listConditions(who, f);
  let cursor: string | undefined;
  let sent = 0;
  while (sent < max) {
    const page = await pageOf(db, base, Math.min(pageSize, max - sent), cursor);
    if (page.items.length) yield page.items;
    sent += page.items.length;
    if (!page.nextCursor) return;
    cursor = page.nextCursor;
  }
}

/**
 * Whether this person sees the subject's full ID number without asking: the person handling the case,
 * that is its assignee in the issuing unit, or the person who sent it in the requesting unit (who typed
 * it). Everyone else who may read the case sees it masked, and unmasks it with `POST …/:id/reveal`,
 * stating a purpose (audited).
 */
export function handlesCase(who: Pick<StaffContext, 'id'>, row: CaseRow): boolean {
  return row.assigneeId === who.id || row.createdBy === who.id;
}

/** The case content as stored (sealed, or a legacy plain row), opened. */
export function caseContent(cipher: ContentCipher, row: CaseRow): CaseContent {
  return cipher.open(row.id, row.content) as CaseContent;
}

export interface CaseContent {
  subject?: { kind: 'person' | 'company'; name: string; idNumber: string };
  fields?: Record<string, unknown>;
  catalog?: unknown;
  [k: string]: unknown;
}

/**
 * The content with the subject masked (name and ID number, as lists show it: 张* / 3703****1234), unless
 * `full`. One rule for the whole case page: whoever sees the subject masked in the list and the case's
 * header sees it masked in the content too, until revealed.
 */
export function viewOfContent(content: CaseContent, full: boolean): CaseContent {
  if (full || !content.subject) return content;
  return {
    ...content,
    subject: {
      ...content.subject,
      name: maskName(content.subject.name, content.subject.kind),
      idNumber: maskIdNumber(content.subject.idNumber),
    },
    idNumberMasked: true,
  };
}

/** Art. 7 clock pause as the requester sets it against its own time limit. */
function verificationWait(row: CaseRow) {
  const now = Date.now();
  const intervals = (row.waitIntervals ?? []).map((i) => ({ from: i.from, to: i.to ?? null }));
  const ms = intervals.reduce((t, i) => t + ((i.to ? Date.parse(i.to) : now) - Date.parse(i.from)), 0);
  return {
    intervals,
    totalMinutes: Math.max(0, Math.round(ms / 60_000)),
    workingMinutes: row.waitedWorkingMinutes,
  };
}

export async function caseDetail(
  db: Db,
  row: CaseRow,
  access: Exclude<CaseAccess, 'none'>,
  viewer: Pick<StaffContext, 'id' | 'unitCode'>,
  cipher: ContentCipher,
) {
  const viewerUnit = viewer.unitCode;
  const [catalog] = await db
    .select({
      name: catalogItems.name,
      requestSchema: catalogItems.requestSchema,
      responseSchema: catalogItems.responseSchema,
    })
    .from(catalogItems)
    .where(and(eq(catalogItems.code, row.catalogCode), eq(catalogItems.version, row.catalogVersion)));
  const events = await db
    .select()
    .from(caseEvents)
    .where(eq(caseEvents.caseId, row.id))
    .orderBy(asc(caseEvents.seq));
  const people = [
    ...new Set(
      [row.assigneeId, ...events.flatMap((e) => [e.actorId, e.onBehalfOf])].filter((x): x is string => !!x),
    ),
  ];
  const names = new Map(
    people.length
      ? (
          await db
            .select({ id: staff.id, name: staff.displayName })
            .from(staff)
            .where(inArray(staff.id, people))
        ).map((s) => [s.id, s.name] as const)
      : [],
  );
  // The system answering from a data source, for the issuing unit: 系统自动核验（淄博市公安局）.
  const systemUnits = [...new Set(events.filter((e) => isSystemActorId(e.actorId)).map((e) => e.actorUnit))];
  if (systemUnits.length) {
    const unitRows = await db
      .select({ code: units.code, name: units.name })
      .from(units)
      .where(
        inArray(
          units.code,
          systemUnits.filter((u): u is string => !!u),
        ),
      );
    for (const e of events)
      if (e.actorId && isSystemActorId(e.actorId))
        names.set(
          e.actorId,
          `系统自动核验（${unitRows.find((u) => u.code === e.actorUnit)?.name ?? e.actorUnit}）`,
        );
  }
  const timeline = events
    .filter((e) => access === 'full' || e.type === 'created' || e.actorUnit === viewerUnit)
    .map((e) => ({
      seq: e.seq,
      type: e.type,
      at: e.at.toISOString(),
      actorId: e.actorId,
      actorName: e.actorId ? (names.get(e.actorId) ?? null) : null,
      actorUnit: e.actorUnit,
      onBehalfOf: e.onBehalfOf,
      onBehalfOfName: e.onBehalfOf ? (names.get(e.onBehalfOf) ?? null) : null,
      reason: e.reason,
      data: e.data,
    }));
  const escalationRows =
    access === 'full' ? await db.select().from(escalations).where(eq(escalations.caseId, row.id)) : [];
  const ledger =
    access === 'full'
      ? await db.select().from(caseLedger).where(eq(caseLedger.caseId, row.id)).orderBy(asc(caseLedger.at))
      : [];
  // Files bound to the case (response letters, applicant-supplied proof): a unit that returned the
  // case sees only its own.
  const files = (
    await db
      .select({
        id: attachments.id,
        fileName: attachments.fileName,
        mediaType: attachments.mediaType,
        sizeBytes: attachments.sizeBytes,
        uploaderUnit: attachments.uploaderUnit,
        createdAt: attachments.createdAt,
      })
      .from(attachments)
      .where(eq(attachments.caseId, row.id))
      .orderBy(asc(attachments.createdAt))
  ).filter((f) => access === 'full' || f.uploaderUnit === viewerUnit);
  return {
    case: {
      ...summary({ ...row, catalogName: catalog?.name }),
      assigneeName: row.assigneeId ? (names.get(row.assigneeId) ?? null) : null,
    },
    access,
    // Its own part only, for a unit that returned the case: no subject, no fields, no answer.
    content: access === 'full' ? viewOfContent(caseContent(cipher, row), handlesCase(viewer, row)) : null,
    answer: access === 'full' ? row.answer : null,
    waitedWorkingMinutes: row.waitedWorkingMinutes,
    tierReason: row.tierReason,
    replyNumber: access === 'full' ? row.replyNumber : null,
    applicationNumber: access === 'full' ? row.applicationNumber : null,
    verificationWait: row.waitIntervals ? verificationWait(row) : null,
    deadlines: (row.deadlines as unknown as DeadlineView[]).map((d) => ({
      routingNo: d.routingNo,
      issuingUnit: d.issuingUnit,
      tier: d.tier,
      dueAt: d.dueAt,
      kind: d.kind,
      reason: d.reason,
      from: d.from,
    })),
    templates:
      access === 'full' && catalog
        ? { request: catalog.requestSchema, response: catalog.responseSchema }
        : null,
    timeline,
    escalations: escalationRows.map((e) => ({
      id: e.id,
      level: e.level,
      status: e.status,
      openedAt: e.openedAt.toISOString(),
      missedDueAt: e.missedDueAt.toISOString(),
      orderedDueAt: e.orderedDueAt?.toISOString() ?? null,
      orderNote: e.orderNote,
      closedAt: e.closedAt?.toISOString() ?? null,
      outcome: e.outcome,
    })),
    attachments: files.map((f) => ({ ...f, createdAt: f.createdAt.toISOString() })),
    ledger: ledger.map((l) => ({
      id: l.id,
      kind: l.kind,
      note: l.note,
      outcome: l.outcome,
      recordedBy: l.recordedBy,
      at: l.at.toISOString(),
    })),
  };
}
