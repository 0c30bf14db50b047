/**
 * A case list as the clerk sees it, as an XLSX file: the rows of the list with its filters, in its order
 * (by deadline), read page by page on the keyset and written by exceljs's streaming writer into the
 * response as they are read. Chinese headers, Beijing times, Chinese labels; list columns only (the masked
 * subject, never the case content).
 */
import type { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import { beijingTime, resultLabel, statusLabel, tierLabel } from '../../workflows/labels.ts';
import type { summary } from './case-reads.ts';

export type ListRow = ReturnType<typeof summary>;

export const CASE_EXPORT_HEADERS = [
  '文号',
  '事项',
  '核验对象',
  '需求单位',
  '出具单位',
  '状态',
  '时限档次',
  '收到时间',
  '办理时限',
  '督办',
  '经办人',
  '结果',
  '办结时间',
  '是否超时',
] as const;

const WIDTHS = [24, 22, 26, 24, 24, 10, 18, 20, 20, 12, 10, 14, 20, 10];

/** The box's name in the file name and the sheet. */
export const BOX_LABELS = { inbox: '待办任务', outbox: '我的协查', escalated: '督办协查' } as const;

/** `协查列表-<box>-<Beijing date>.xlsx`, as an RFC 5987 Content-Disposition (with an ASCII fallback). */
export function caseExportDisposition(box: keyof typeof BOX_LABELS, now: Date): string {
  const day = new Date(now.getTime() + 8 * 3_600_000).toISOString().slice(0, 10);
  const name = `协查列表-${BOX_LABELS[box]}-${day}.xlsx`;
  return `attachment; filename="cases-${box}-${day}.xlsx"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export function caseCells(r: ListRow, unitName: (code: string) => string): (string | null)[] {
  const inForce = r.dueInForce ?? r.dueAt;
  return [
    r.docNumber,
    r.catalogName ?? r.catalogCode,
    r.subject,
    unitName(r.requestingUnit),
    unitName(r.issuingUnit),
    statusLabel(r.status),
    tierLabel(r.tier),
    beijingTime(r.receivedAt),
    `${beijingTime(inForce)}${r.orderedDueAt ? '（责成）' : ''}`,
    r.escalationLevel > 0 ? `${r.escalationLevel === 2 ? '二级' : '一级'}督办` : null,
    r.assigneeName ?? null,
    r.result ? resultLabel(r.result) : null,
    r.completedAt ? beijingTime(r.completedAt) : null,
    r.late || r.overdue ? '是' : '否',
  ];
}

/**
 * Writes the workbook into `out`: a title row with the filters, the headers, then each page of `pages` as
 * it comes. Resolves with the number of rows written.
 */
export async function writeCaseListXlsx(
  out: Writable,
  pages: AsyncIterable<ListRow[]>,
  meta: {
    box: keyof typeof BOX_LABELS;
    filters: string;
    generatedAt: Date;
    unitName: (code: string) => string;
  },
): Promise<number> {
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useStyles: true,
    useSharedStrings: false,
  });
  wb.creator = '协查核验引擎';
  wb.created = meta.generatedAt;
  const ws = wb.addWorksheet(BOX_LABELS[meta.box], { views: [{ state: 'frozen', ySplit: 1 }] });
  ws.columns = CASE_EXPORT_HEADERS.map((_h, i) => ({ width: WIDTHS[i] ?? 14 }));
  const head = ws.addRow([...CASE_EXPORT_HEADERS]);
  head.font = { bold: true };
  head.commit();
  let rows = 0;
  for await (const page of pages) {
    for (const r of page) {
      ws.addRow(caseCells(r, meta.unitName)).commit();
      rows += 1;
    }
  }
  ws.commit();
  const info = wb.addWorksheet('说明');
  info.columns = [{ width: 14 }, { width: 60 }];
  for (const cells of [
    ['列表', BOX_LABELS[meta.box]],
    ['筛选条件', meta.filters || '无'],
    ['导出时间', beijingTime(meta.generatedAt.toISOString())],
    ['条数', String(rows)],
  ])
    info.addRow(cells).commit();
  info.commit();
  await wb.commit();
  return rows;
}
