/**
 * How the words of a notification read to a person: Beijing time in Chinese format and the Chinese
 * label of every code (the web app's labels say the same; web/src/labels.ts). Instants stay ISO in the
 * case's data; only the text a person reads is formatted, here, where that text is written. Pure and
 * deterministic: no Intl or time zone database, Beijing has had UTC+8 without daylight saving since 1991.
 */
import type { ResponseResult, SlaTier } from './definitions.ts';

const RESULT_LABELS: Record<ResponseResult, string> = {
  consistent: '一致',
  inconsistent: '不一致',
  not_found: '查无此人（事）',
  partial: '部分一致',
};

const TIER_LABELS: Record<SlaTier, string> = {
  '30m': '30 分钟（工作时间）',
  '1d': '1 个工作日',
  '2d': '2 个工作日',
};

export const resultLabel = (r: ResponseResult): string => RESULT_LABELS[r] ?? r;
export const tierLabel = (t: SlaTier): string => TIER_LABELS[t] ?? t;

/** '2026-11-30T09:30:00.000Z' → '2026年11月30日 17:30' (Beijing time). */
export function beijingTime(iso: string): string {
  const d = new Date(Date.parse(iso) + 8 * 3_600_000);
  if (Number.isNaN(d.getTime())) return iso;
  const hh = String(d.getUTCHours()).padStart(2, '0');
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  return `${d.getUTCFullYear()}年${d.getUTCMonth() + 1}月${d.getUTCDate()}日 ${hh}:${mm}`;
}
