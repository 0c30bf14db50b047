/**
 * Dates in Asia/Shanghai as `2026-11-23 14:05`, and the SLA state of a case: working time left, "due
 * soon" (the last 20% of the SLA, in working time) or overdue.
 *
 * Working time left is approximated here in the browser: office hours 09:00–12:00 and 13:30–17:30,
 * Monday to Friday, Asia/Shanghai. Statutory holidays and make-up working days are not known to the
 * browser, so around a holiday the figure can differ from the server's; the deadline itself (dueAt) is
 * always the server's, computed with the full calendar. Overdue time is wall-clock time since the
 * deadline. Cases on a demonstration SLA (flag `demo_sla`, DEV_SLA_SECONDS) count in wall-clock time.
 */
import { t } from './i18n.ts';

const SHANGHAI_OFFSET_MS = 8 * 3600_000; // no daylight saving time since 1991
const PERIODS: [number, number][] = [
  [9 * 60, 12 * 60],
  [13 * 60 + 30, 17 * 60 + 30],
];

/** `2026-11-23 14:05` in Asia/Shanghai; '—' for nothing. */
export function fmt(iso: string | Date | null | undefined): string {
  if (!iso) return '—';
  const d = typeof iso === 'string' ? new Date(iso) : iso;
  if (Number.isNaN(d.getTime())) return '—';
  // Asia/Shanghai is UTC+8 all year: the shifted instant's UTC fields are Beijing's. No time-zone data is
  // needed (Intl's takes tens of milliseconds to load on a slow CPU, before the first screen can be drawn).
  const s = new Date(d.getTime() + SHANGHAI_OFFSET_MS).toISOString();
  return `${s.slice(0, 10)} ${s.slice(11, 16)}`;
}

/** `2026年11月23日 14:05` in Asia/Shanghai, for letters (a formal text reads dates the Chinese way). */
export function fmtCn(iso: string | Date | null | undefined): string {
  if (!iso) return '—';
  const s = fmt(iso);
  if (s === '—') return s;
  const [y, m, d] = s.slice(0, 10).split('-');
  return `${y}年${Number(m)}月${Number(d)}日 ${s.slice(11)}`;
}

/** `2026年11月23日` in Asia/Shanghai, for letters; a calendar date (`2026-11-23`) as it is. */
export function fmtDateCn(iso: string | Date | null | undefined): string {
  if (!iso) return '—';
  const s = typeof iso === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(iso) ? iso : fmt(iso);
  if (s === '—') return s;
  const [y, m, d] = s.slice(0, 10).split('-');
  return `${y}年${Number(m)}月${Number(d)}日`;
}

/** Working minutes between two instants (approximation: office hours on weekdays, no holidays). */
export function workingMinutesBetween(from: Date, to: Date): number {
  if (to <= from) return 0;
  let total = 0;
  // Walk Shanghai calendar days; each day contributes its office periods clipped to [from, to].
  const startLocal = from.getTime() + SHANGHAI_OFFSET_MS;
  const endLocal = to.getTime() + SHANGHAI_OFFSET_MS;
  let day = Math.floor(startLocal / 86_400_000);
  const lastDay = Math.floor(endLocal / 86_400_000);
  for (; day <= lastDay; day++) {
    const weekday = new Date(day * 86_400_000).getUTCDay();
    if (weekday === 0 || weekday === 6) continue;
    for (const [a, b] of PERIODS) {
      const s = Math.max(day * 86_400_000 + a * 60_000, startLocal);
      const e = Math.min(day * 86_400_000 + b * 60_000, endLocal);
      if (e > s) total += (e - s) / 60_000;
    }
  }
  return Math.floor(total);
}

export function durationText(minutes: number): string {
  const m = Math.max(0, Math.floor(minutes));
  if (m < 1) return t('不到 1 分钟');
  if (m < 60) return t('{n} 分钟', { n: m });
  if (m < 24 * 60) {
    const h = Math.floor(m / 60);
    const rest = m % 60;
    return rest ? t('{h} 小时 {m} 分钟', { h, m: rest }) : t('{n} 小时', { n: h });
  }
  const d = Math.floor(m / 1440);
  const h = Math.floor((m % 1440) / 60);
  return h ? t('{d} 天 {h} 小时', { d, h }) : t('{n} 天', { n: d });
}

/** Working time, in working hours (8 per day): "1 个工作日 3 小时" reads better as hours here. */
function workingDurationText(minutes: number): string {
  const m = Math.max(0, Math.floor(minutes));
  if (m < 1) return t('不到 1 分钟');
  if (m < 60) return t('{n} 分钟', { n: m });
  const h = Math.floor(m / 60);
  const rest = m % 60;
  return rest ? t('{h} 小时 {m} 分钟', { h, m: rest }) : t('{n} 小时', { n: h });
}

export type SlaKind = 'ontime' | 'soon' | 'overdue' | 'closed' | 'paused';

export interface SlaState {
  kind: SlaKind;
  text: string;
  /** Share of the SLA still left, 0..1 (open cases only). */
  left?: number;
}

export interface SlaInput {
  status: string;
  receivedAt: string;
  dueAt: string;
  /** The deadline in force when the office ordered one (责成限时办结); counts instead of dueAt. */
  dueInForce?: string;
  orderedDueAt?: string | null;
  completedAt: string | null;
  flags: string[];
  late?: boolean;
}

const OPEN_WITH_ISSUER = new Set(['awaiting_registration', 'registered']);

/** An SLA state as its tag reads: `即将到期 · ` before the time left in the last 20%. */
export const slaText = (s: SlaState): string => `${s.kind === 'soon' ? `${t('即将到期')} · ` : ''}${s.text}`;

export function slaState(c: SlaInput, now: Date = new Date()): SlaState {
  const due = new Date(c.dueInForce ?? c.dueAt);
  if (c.completedAt || !OPEN_WITH_ISSUER.has(c.status)) {
    if (c.status === 'returned') return { kind: 'paused', text: t('已退回') };
    return { kind: 'closed', text: c.late ? t('已超时') : t('已办结') };
  }
  if (now >= due) {
    return {
      kind: 'overdue',
      text: t('已超时 {t}', { t: durationText((now.getTime() - due.getTime()) / 60_000) }),
    };
  }
  const received = new Date(c.receivedAt);
  const wallClock = c.flags.includes('demo_sla');
  const total = wallClock
    ? (due.getTime() - received.getTime()) / 60_000
    : workingMinutesBetween(received, due);
  const left = wallClock ? (due.getTime() - now.getTime()) / 60_000 : workingMinutesBetween(now, due);
  const share = total > 0 ? Math.min(1, left / total) : 0;
  const text = wallClock
    ? t('剩余 {t}', { t: durationText(left) })
    : t('剩余 {t}（工作时间）', { t: workingDurationText(left) });
  return { kind: share <= 0.2 ? 'soon' : 'ontime', text, left: share };
}
