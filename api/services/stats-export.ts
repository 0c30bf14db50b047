/**
 * The assessment figures as files to attach to an assessment report: XLSX (one sheet per view: 承办单位,
 * 申请单位, 全市, 排名), written by exceljs's streaming writer straight into the response, and CSV (the
 * 承办单位 view, UTF-8 with a BOM so that Excel reads the Chinese). Headers and labels are Chinese, rates
 * are fractions (XLSX: formatted as percentages; CSV: "95.0%"), durations are working minutes.
 */
import type { Writable } from 'node:stream';
import ExcelJS, { type Worksheet } from 'exceljs';
import { beijingTime } from '../../workflows/labels.ts';
import type { IssuingRow, TrendDay, UnitStats } from './stats.ts';

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
export const CSV_TYPE = 'text/csv; charset=utf-8';

const TIER_LABELS: Record<string, string> = {
  '30m': '30 分钟（工作时间）',
  '1d': '1 个工作日',
  '2d': '2 个工作日',
};

export interface ExportMeta {
  tier?: string;
  unit?: string;
  unitName?: string;
  generatedAt: Date;
}

/** `考核统计-<from>-<to>.<ext>`, as an RFC 5987 Content-Disposition (with an ASCII fallback). */
export function exportDisposition(from: string, to: string, ext: 'xlsx' | 'csv'): string {
  const name = `考核统计-${from}-${to}.${ext}`;
  return `attachment; filename="stats-${from}-${to}.${ext}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

type Cell = string | number | null;

export const ISSUING_HEADERS = [
  '单位代码',
  '单位名称',
  '收件数',
  '按时反馈',
  '超时反馈',
  '按时反馈率',
  '退回',
  '调整时限',
  '撤回',
  '在办',
  '当前超时',
  '当前超时（30 分钟）',
  '当前超时（1 个工作日）',
  '当前超时（2 个工作日）',
  '登记用时中位数（工作分钟）',
  '登记用时 P90（工作分钟）',
  '反馈用时中位数（工作分钟）',
  '反馈用时 P90（工作分钟）',
  '一级督办',
  '二级督办',
  '督办办结结果',
  '人员配备（第六条）',
] as const;
/** Index of the rate column among ISSUING_HEADERS (formatted as a percentage). */
const ISSUING_RATE_COLUMNS = [5];

export function issuingCells(r: IssuingRow): Cell[] {
  const outcomes = Object.entries(r.escalations.byOutcome)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([outcome, count]) => `${outcome}：${count}`)
    .join('；');
  return [
    r.unitId,
    r.unitName,
    r.received,
    r.answeredOnTime,
    r.answeredLate,
    r.onTimeRate,
    r.returned,
    r.reclassified,
    r.withdrawn,
    r.open,
    r.overdueNow,
    r.overdueByTier['30m'],
    r.overdueByTier['1d'],
    r.overdueByTier['2d'],
    r.registerMinutes.median,
    r.registerMinutes.p90,
    r.answerMinutes.median,
    r.answerMinutes.p90,
    r.escalations.level1,
    r.escalations.level2,
    outcomes || null,
    r.staffingCompliant ? '达标' : '不达标',
  ];
}

export const REQUESTING_HEADERS = [
  '单位代码',
  '单位名称',
  '发起协查数',
  '核验等待合计（工作分钟）',
  '核验等待中位数（工作分钟）',
  '核验不一致率',
  '台账跟进记录数',
] as const;

export const RANKING_HEADERS = ['名次', '单位代码', '单位名称', '按时反馈率', '收件数'] as const;
export const TREND_HEADERS = ['日期', '收件数', '反馈数', '按时反馈', '按时反馈率'] as const;

function filterText(meta: ExportMeta): string {
  const parts = [
    meta.tier ? `时限：${TIER_LABELS[meta.tier] ?? meta.tier}` : '时限：全部',
    meta.unit ? `单位：${meta.unitName ?? meta.unit}` : '单位：全部',
  ];
  return parts.join('；');
}

/** Writes the workbook into `out`, sheet by sheet, each row committed as it is written. */
export async function writeStatsXlsx(
  out: Writable,
  stats: UnitStats,
  trend: TrendDay[],
  meta: ExportMeta,
): Promise<void> {
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useStyles: true,
    useSharedStrings: false,
  });
  wb.creator = '协查核验引擎';
  wb.created = meta.generatedAt;

  const sheet = (name: string, headers: readonly string[], widths: number[]) => {
    const ws = wb.addWorksheet(name, { views: [{ state: 'frozen', ySplit: 1 }] });
    ws.columns = headers.map((_h, i) => ({ width: widths[i] ?? 14 }));
    const head = ws.addRow([...headers]);
    head.font = { bold: true };
    head.commit();
    return ws;
  };
  /** Adds and commits a row; the cells at `percent` (0-based) read as percentages. */
  const put = (ws: Worksheet, cells: Cell[], percent: number[] = []) => {
    const row = ws.addRow(cells);
    for (const i of percent) row.getCell(i + 1).numFmt = '0.0%';
    row.commit();
  };

  const issuing = sheet('承办单位', ISSUING_HEADERS, [12, 28]);
  for (const r of stats.issuing) put(issuing, issuingCells(r), ISSUING_RATE_COLUMNS);
  issuing.commit();

  const requesting = sheet('申请单位', REQUESTING_HEADERS, [12, 28, 12, 22, 22, 14, 14]);
  for (const r of stats.requesting)
    put(
      requesting,
      [
        r.unitId,
        r.unitName,
        r.sent,
        r.verificationWaitMinutes.total,
        r.verificationWaitMinutes.median,
        r.mismatchRate,
        r.ledgerFollowUps,
      ],
      [5],
    );
  requesting.commit();

  const city = wb.addWorksheet('全市');
  city.columns = [{ width: 22 }, { width: 16 }, { width: 12 }, { width: 12 }, { width: 14 }];
  const cityRows: Cell[][] = [
    ['统计期间', `${stats.period.from} 至 ${stats.period.to}（北京时间，按收件日期）`],
    ['筛选', filterText(meta)],
    ['导出时间', beijingTime(meta.generatedAt.toISOString())],
    ['收件数', stats.city.received],
    ['按时反馈', stats.city.answeredOnTime],
    ['超时反馈', stats.city.answeredLate],
    ['按时反馈率', stats.city.onTimeRate],
    ['当前超时', stats.city.overdueNow],
    [],
  ];
  for (const cells of cityRows) put(city, cells, cells[0] === '按时反馈率' ? [1] : []);
  const trendHead = city.addRow([...TREND_HEADERS]);
  trendHead.font = { bold: true };
  trendHead.commit();
  for (const d of trend) put(city, [d.date, d.received, d.answered, d.answeredOnTime, d.onTimeRate], [4]);
  city.commit();

  const ranking = sheet('排名', RANKING_HEADERS, [8, 12, 28, 14, 10]);
  for (const r of stats.ranking) put(ranking, [r.rank, r.unitId, r.unitName, r.onTimeRate, r.received], [3]);
  ranking.commit();

  await wb.commit();
}

// ─── CSV ─────────────────────────────────────────────────────────────────────────────────────────

/** A rate as a person reads it: 0.95 → "95.0%"; nothing answered → empty. */
export const percentText = (r: number | null): string => (r === null ? '' : `${(r * 100).toFixed(1)}%`);

/** RFC 4180 quoting; text that a spreadsheet would run as a formula is prefixed with an apostrophe. */
function csvCell(v: Cell): string {
  if (v === null) return '';
  if (typeof v === 'number') return String(v);
  const text = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The 承办单位 view as CSV, with a UTF-8 BOM and CRLF line ends. */
export function statsCsv(stats: UnitStats): string {
  const lines = [ISSUING_HEADERS.map(csvCell).join(',')];
  for (const r of stats.issuing) {
    const cells = issuingCells(r);
    cells[5] = percentText(r.onTimeRate);
    lines.push(cells.map(csvCell).join(','));
  }
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
