/**
 * List adjustment (清单动态调整, Zibo attachment 3): the workflow's activities (working-day deadlines on the
 * city calendar, publishing an approved change through the admin catalog's own logic, the read-model
 * projection with its notices) and the catalog export (the gateway: catalog-change-gateway.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Writable } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import { desc, eq } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import type { CalendarSource } from '../../activities/calendar-source.ts';
import { insertNotifications, type NotificationRow } from '../../activities/case-activities.ts';
import { calculation } from '../../activities/failures.ts';
import type { Db } from '../../db/client.ts';
import { catalogChanges, catalogItems, units } from '../../db/schema.ts';
import { shanghaiDateOf, workingDaysAfter } from '../../domain/working-time/index.ts';
import {
  type CatalogChangeActivities,
  type CatalogChangeSnapshot,
  catalogChangeWorkflowId,
} from '../../workflows/catalog-change.ts';
import { beijingTime, readableText } from '../../workflows/labels.ts';
import { Problem } from '../problem.ts';
import { checkItem, insertVersion } from '../routes/admin-catalog.ts';
import { latestCatalogItems } from '../routes/catalog.ts';

export const newCatalogChangeId = (): string => `cc-${randomUUID()}`;

/** The non-retryable failure of a change that cannot be published as filed (the decision is refused). */
export const CATALOG_CHANGE_INVALID = 'CatalogChangeInvalid';

export function createCatalogChangeActivities(db: Db, calendar: CalendarSource): CatalogChangeActivities {
  return {
    async workingDaysDeadline({ from, days, remindDaysBefore }) {
      const { data } = await calendar.current();
      return calculation(() => {
        const at = new Date(from);
        const due = workingDaysAfter(at, days, data).closeAt;
        const remindDay = days - remindDaysBefore;
        const remindAt =
          remindDaysBefore > 0 && remindDay >= 1 ? workingDaysAfter(at, remindDay, data).closeAt : at;
        return { dueAt: due.toISOString(), remindAt: remindAt.toISOString() };
      });
    },

    async publishCatalogChange({ changeId, request }) {
      return db.transaction(async (tx) => {
        const [row] = await tx
          .select({ version: catalogChanges.publishedVersion, at: catalogChanges.publishedAt })
          .from(catalogChanges)
          .where(eq(catalogChanges.id, changeId));
        if (row?.version && row.at) return { version: row.version, publishedAt: row.at.toISOString() };
        const [latest] = await tx
          .select()
          .from(catalogItems)
          .where(eq(catalogItems.code, request.itemCode))
          .orderBy(desc(catalogItems.version))
          .limit(1);
        let version: number;
        if (request.changeType === 'remove') {
          if (!latest) throw invalid(`证明事项 ${request.itemCode} 不存在，无法取消`);
          // Removal deactivates every version: the history stays, no new case can use the item.
          await tx.update(catalogItems).set({ active: false }).where(eq(catalogItems.code, request.itemCode));
          version = latest.version;
        } else {
          if (!request.item) throw invalid('申请未填写拟调整的事项内容');
          if (request.changeType === 'change' && !latest)
            throw invalid(`证明事项 ${request.itemCode} 不存在，无法变更`);
          try {
            await checkItem(tx as Db, request.item);
            const view = await insertVersion(
              tx as Db,
              request.itemCode,
              (latest?.version ?? 0) + 1,
              request.item,
              {
                subjectKinds: latest?.subjectKinds,
                connector: latest?.connector ?? null,
              },
            );
            version = view.version;
          } catch (err) {
            if (err instanceof Problem) throw invalid(err.detail);
            throw err;
          }
        }
        const publishedAt = new Date();
        await tx
          .update(catalogChanges)
          .set({ publishedVersion: version, publishedAt })
          .where(eq(catalogChanges.id, changeId));
        return { version, publishedAt: publishedAt.toISOString() };
      });
    },

    async projectCatalogChange({ snapshot: s, event, at, notices }) {
      await db.transaction(async (tx) => {
        const values = rowOf(s);
        await tx
          .insert(catalogChanges)
          .values(values)
          .onConflictDoUpdate({ target: catalogChanges.id, set: { ...values, id: undefined } });
        if (!notices?.length) return;
        const offices = notices.some((n) => n.audience === 'office')
          ? await tx.select({ code: units.code }).from(units).where(eq(units.kind, 'office'))
          : [];
        const eventKey = `${catalogChangeWorkflowId(s.changeId)}:${event}`;
        const rows: NotificationRow[] = notices.flatMap((n) =>
          (n.audience === 'unit' ? [s.unitCode] : offices.map((o) => o.code)).map((unit) => ({
            id: `${eventKey}:unit:${unit}`,
            eventKey,
            recipientKey: `unit:${unit}`,
            caseId: null,
            recipientStaffId: null,
            recipientUnit: unit,
            kind: n.kind,
            message: readableText(n.message),
            createdAt: new Date(at),
          })),
        );
        await insertNotifications(tx as Db, rows);
      });
    },
  };
}

const invalid = (message: string) =>
  ApplicationFailure.create({ type: CATALOG_CHANGE_INVALID, message, nonRetryable: true });

const date = (iso: string | null) => (iso ? new Date(iso) : null);

function rowOf(s: CatalogChangeSnapshot): typeof catalogChanges.$inferInsert {
  return {
    id: s.changeId,
    unitCode: s.unitCode,
    causeKind: s.cause.kind,
    causeDate: s.cause.date,
    causeDescription: s.cause.description,
    itemCode: s.request?.itemCode ?? s.cause.itemCode,
    recordedBy: s.recordedBy.staffId,
    recordedAt: new Date(s.recordedAt),
    status: s.status,
    filingDueAt: new Date(s.filingDueAt),
    filingRemindAt: new Date(s.filingRemindAt),
    reminderSentAt: date(s.reminderSentAt),
    filingOverdueAt: date(s.filingOverdueAt),
    changeType: s.request?.changeType ?? null,
    request: (s.request as unknown as Record<string, unknown>) ?? null,
    filedBy: s.filedBy?.staffId ?? null,
    filedAt: date(s.filedAt),
    filedLate: s.filedLate,
    decisionDueAt: date(s.decisionDueAt),
    decisionOverdueAt: date(s.decisionOverdueAt),
    decidedBy: s.decidedBy?.staffId ?? null,
    decidedAt: date(s.decidedAt),
    decisionReason: s.decisionReason,
    publishedVersion: s.publishedVersion,
    publishedAt: date(s.publishedAt),
    snapshot: s as unknown as Record<string, unknown>,
    updatedAt: new Date(),
  };
}

// ─── The current list as a workbook ──────────────────────────────────────────────────────────────

export const CATALOG_EXPORT_HEADERS = [
  '事项代码',
  '证明事项名称',
  '版本',
  '政务服务事项名称',
  '政务服务事项编码',
  '设定依据',
  '出具单位',
  '默认时限',
  '免提交方式',
  '发布时间',
] as const;

const TIER_TEXT: Record<string, string> = {
  '30m': '30 分钟（工作时间）',
  '1d': '1 个工作日',
  '2d': '2 个工作日',
};

/** Writes the items in use (the latest active version of each) into `out`; resolves with the row count. */
export async function writeCatalogXlsx(db: Db, out: Writable, generatedAt: Date): Promise<number> {
  const items = await latestCatalogItems(db);
  const names = new Map((await db.select().from(units)).map((u) => [u.code, u.name] as const));
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useStyles: true,
    useSharedStrings: false,
  });
  wb.creator = '协查核验引擎';
  wb.created = generatedAt;
  const ws = wb.addWorksheet('证明事项清单', { views: [{ state: 'frozen', ySplit: 1 }] });
  ws.columns = CATALOG_EXPORT_HEADERS.map((h) => ({ width: h === '设定依据' ? 40 : 18 }));
  const head = ws.addRow([...CATALOG_EXPORT_HEADERS]);
  head.font = { bold: true };
  head.commit();
  for (const i of items)
    ws.addRow([
      i.code,
      i.name,
      i.version,
      i.serviceItemName,
      i.serviceItemCode ?? '',
      i.legalBasis,
      i.issuingUnitCodes.map((c) => names.get(c) ?? c).join('、'),
      TIER_TEXT[i.defaultTier] ?? i.defaultTier,
      i.exemptionMethod,
      beijingTime(i.createdAt.toISOString()),
    ]).commit();
  ws.commit();
  const info = wb.addWorksheet('说明');
  info.columns = [{ width: 14 }, { width: 40 }];
  info.addRow(['导出时间', beijingTime(generatedAt.toISOString())]).commit();
  info.addRow(['事项数', String(items.length)]).commit();
  info.commit();
  await wb.commit();
  return items.length;
}

export const catalogExportDisposition = (at: Date): string => {
  const day = shanghaiDateOf(at);
  return `attachment; filename="catalog-${day}.xlsx"; filename*=UTF-8''${encodeURIComponent(`证明事项清单-${day}.xlsx`)}`;
};
