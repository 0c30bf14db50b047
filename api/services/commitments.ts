/**
 * 告知承诺 (seed 004) reads: who may see which commitments and credit records, the bar check, the list pages, and
 * the credit records' workbook. The subject is shown masked only; the clear identity stays sealed.
 */
import type { Writable } from 'node:stream';
import { and, desc, eq, gt, inArray, lt, or } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import type { Db } from '../../db/client.ts';
import { type commitments, creditRecords, staff, units } from '../../db/schema.ts';
import { subjectIdHashes } from '../../domain/personal-data.ts';
import { beijingTime } from '../../workflows/labels.ts';
import type { StaffContext } from '../plugins/auth.ts';
import { forbidden } from '../problem.ts';

/** The periods of 告知承诺 (app/config.ts: COMMITMENT_CHECK_WORKING_DAYS, COMMITMENT_BAR_DAYS). */
export interface CommitmentPeriods {
  checkWorkingDays: number;
  barDays: number;
}
export const DEFAULT_COMMITMENT_PERIODS: CommitmentPeriods = { checkWorkingDays: 10, barDays: 365 };

export const COMMITMENT_STATUS_LABELS: Record<string, string> = {
  scheduled: '待核查',
  checking: '核查中',
  awaiting_confirmation: '待确认核查结论',
  fulfilled: '承诺属实',
  false: '承诺不实',
};

/** '2027-12-01T…' → '2027年12月1日' (the Beijing date). */
export const beijingDate = (iso: string): string => beijingTime(iso).split(' ')[0] ?? iso;

export type Scope = { all: true } | { all: false; unit: string };

/**
 * Who sees what: a requesting unit's liaison or agent its own unit's; the office's supervisors every unit's.
 * Anyone else is refused (the caller audits the 403).
 */
export async function commitmentScope(db: Db, who: StaffContext): Promise<Scope> {
  if (who.role === 'supervisor' && who.unitKind === 'office') return { all: true };
  if ((who.role === 'agent' || who.role === 'liaison') && who.unitKind === 'department') {
    const [unit] = await db
      .select({ canRequest: units.canRequest })
      .from(units)
      .where(eq(units.code, who.unitCode));
    if (unit?.canRequest) return { all: false, unit: who.unitCode };
  }
  throw forbidden('只有需求单位的联络员、经办人或联席会议办公室可以查看告知承诺和信用记录');
}

/** The subject's bar in force at `now` (the latest credit record), if any. */
export async function currentBar(
  db: Db,
  subjectKey: Buffer,
  idNumber: string,
  now: Date,
): Promise<{ barredUntil: Date; recordedAt: Date } | undefined> {
  const [row] = await db
    .select({ barredUntil: creditRecords.barredUntil, recordedAt: creditRecords.recordedAt })
    .from(creditRecords)
    .where(
      and(
        inArray(creditRecords.subjectIdHash, subjectIdHashes(subjectKey, idNumber)),
        gt(creditRecords.barredUntil, now),
      ),
    )
    .orderBy(desc(creditRecords.barredUntil))
    .limit(1);
  return row;
}

export type CommitmentRow = typeof commitments.$inferSelect;

export function commitmentView(r: CommitmentRow, names: Map<string, string>) {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    id: r.id,
    requestingUnit: r.requestingUnit,
    requestingUnitName: names.get(r.requestingUnit) ?? r.requestingUnit,
    issuingUnit: r.issuingUnit,
    issuingUnitName: names.get(r.issuingUnit) ?? r.issuingUnit,
    catalogCode: r.catalogCode,
    catalogName: r.catalogName,
    subjectKind: r.subjectKind,
    subject: r.subjectMasked,
    promise: r.promise,
    applicationNumber: r.applicationNumber,
    serviceName: r.serviceName,
    signedAt: r.signedAt.toISOString(),
    recordedBy: r.recordedBy,
    recordedAt: r.recordedAt.toISOString(),
    status: r.status,
    statusLabel: COMMITMENT_STATUS_LABELS[r.status] ?? r.status,
    checkDueAt: iso(r.checkDueAt),
    caseId: r.caseId,
    caseDocNumber: r.caseDocNumber,
    checkOutcome: r.checkOutcome,
    checkNote: r.checkNote,
    checkedAt: iso(r.checkedAt),
    decision: r.decision,
    decisionReason: r.decisionReason,
    decidedBy: r.decidedBy,
    decidedAt: iso(r.decidedAt),
  };
}

export async function unitNames(db: Db): Promise<Map<string, string>> {
  return new Map(
    (await db.select({ code: units.code, name: units.name }).from(units)).map((u) => [u.code, u.name]),
  );
}

export async function listCreditRecords(db: Db, scope: Scope, limit: number, after?: [Date, string]) {
  const where = [
    scope.all ? undefined : eq(creditRecords.requestingUnit, scope.unit),
    after
      ? or(
          lt(creditRecords.recordedAt, after[0]),
          and(eq(creditRecords.recordedAt, after[0]), lt(creditRecords.id, after[1])),
        )
      : undefined,
  ];
  return db
    .select({ r: creditRecords, recordedByName: staff.displayName })
    .from(creditRecords)
    .leftJoin(staff, eq(staff.id, creditRecords.recordedBy))
    .where(and(...where))
    .orderBy(desc(creditRecords.recordedAt), desc(creditRecords.id))
    .limit(limit);
}

export type CreditRow = Awaited<ReturnType<typeof listCreditRecords>>[number];

export function creditView(x: CreditRow, names: Map<string, string>, now: Date) {
  return {
    id: x.r.id,
    commitmentId: x.r.commitmentId,
    requestingUnit: x.r.requestingUnit,
    requestingUnitName: names.get(x.r.requestingUnit) ?? x.r.requestingUnit,
    subjectKind: x.r.subjectKind,
    subject: x.r.subjectMasked,
    catalogName: x.r.catalogName,
    applicationNumber: x.r.applicationNumber,
    reason: x.r.reason,
    recordedBy: x.r.recordedBy,
    recordedByName: x.recordedByName,
    recordedAt: x.r.recordedAt.toISOString(),
    barredUntil: x.r.barredUntil.toISOString(),
    barred: x.r.barredUntil.getTime() > now.getTime(),
  };
}

export const CREDIT_HEADERS = [
  '记录编号',
  '承诺人',
  '类型',
  '承诺事项',
  '办件号',
  '记录单位',
  '认定不实的理由',
  '记录人',
  '记录时间（北京时间）',
  '限制告知承诺至（北京时间）',
  '状态',
] as const;

/** Streams the credit records into `out` (rows committed as written; at most `max` rows). */
export async function writeCreditRecordsXlsx(
  out: Writable,
  rows: CreditRow[],
  meta: { generatedAt: Date; scopeText: string; names: Map<string, string> },
): Promise<void> {
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useStyles: true,
    useSharedStrings: false,
  });
  wb.creator = '协查核验引擎';
  wb.created = meta.generatedAt;
  const ws = wb.addWorksheet('信用记录', { views: [{ state: 'frozen', ySplit: 1 }] });
  ws.columns = [22, 22, 8, 22, 16, 22, 40, 12, 20, 20, 10].map((width) => ({ width }));
  const head = ws.addRow([...CREDIT_HEADERS]);
  head.font = { bold: true };
  head.commit();
  for (const x of rows) {
    const v = creditView(x, meta.names, meta.generatedAt);
    ws.addRow([
      v.id,
      v.subject,
      v.subjectKind === 'company' ? '企业' : '个人',
      v.catalogName,
      v.applicationNumber,
      v.requestingUnitName,
      v.reason,
      v.recordedByName ?? v.recordedBy,
      beijingTime(v.recordedAt),
      beijingTime(v.barredUntil),
      v.barred ? '限制中' : '已到期',
    ]).commit();
  }
  ws.commit();
  const about = wb.addWorksheet('说明');
  about.columns = [{ width: 16 }, { width: 60 }];
  for (const cells of [
    ['范围', meta.scopeText],
    ['导出时间', beijingTime(meta.generatedAt.toISOString())],
    ['依据', '证明事项告知承诺制：虚假承诺纳入信用记录，在信用修复前不适用告知承诺制'],
  ])
    about.addRow(cells).commit();
  about.commit();
  await wb.commit();
}
