/**
 * What people read, in one place: Beijing time in Chinese format and the Chinese label of every code
 * (results, tiers, statuses, escalation states, channels, notification kinds). Every text a person reads
 * outside the web app — in-app notifications, the live stream, webhooks — is written or passed through
 * here (the web app's labels say the same: web/src/labels.ts). Instants stay ISO in the data; only the
 * text is formatted, at the edge.
 *
 * Pure and deterministic, so the case workflow uses it too: no Intl or time zone database; Beijing has
 * had UTC+8 without daylight saving since 1991.
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

const STATUS_LABELS: Record<string, string> = {
  awaiting_registration: '待登记',
  registered: '办理中',
  returned: '已退回',
  answered: '已反馈',
  withdrawn: '已撤回',
  closed_after_return: '退回后办结',
  offline: '线下核验',
  applicant_supplied: '申请人自行提交',
  terminated: '已终止',
};

const ESCALATION_STATUS_LABELS: Record<string, string> = {
  open: '待处理',
  ordered: '已责成',
  closed: '已关闭',
};

const CHANNEL_LABELS: Record<string, string> = {
  fax: '传真',
  oa: 'OA 系统',
  email: '电子邮件',
  on_site: '实地核查',
  other: '其他',
};

/** The title of each kind of notification. */
const NOTIFICATION_TITLES: Record<string, string> = {
  new_task: '新的协查任务',
  answered: '协查已反馈',
  returned: '协查被退回',
  reclassified: '办理时限调整',
  assigned: '协查转派',
  handed_over: 'A/B角接办',
  unclaimed: '协查取消认领',
  urged: '需求单位催办',
  withdrawn: '协查已撤回',
  deadline_ordered: '责成限时办结',
  retimed: '办理时限调整（工作日历变更）',
  reminder: '到期提醒',
  escalated: '逾期督办',
  order_missed: '责成时限再次逾期',
  escalation_pending: '督办待处理',
  handover_failed: '缺岗转交未完成',
  auto_check_fallback: '自动核验转人工办理',
  dispute_filed: '职责争议待裁定',
  dispute_overdue: '职责争议逾期未裁定',
  dispute_decided: '职责争议已裁定',
  commitment_check: '告知承诺核查待确认',
  // Complaints (投诉, attachment 4; workflows/complaint-definitions.ts).
  complaint_assigned: '投诉指派',
  complaint_extension_requested: '投诉延期待审批',
  complaint_extension_approved: '投诉延期已批准',
  complaint_extension_denied: '投诉延期未获批准',
  complaint_overdue: '投诉逾期督办',
  complaint_answered: '投诉已办结答复',
};

const label = (table: Record<string, string>, code: string): string => table[code] ?? code;

export const resultLabel = (r: ResponseResult | string): string => label(RESULT_LABELS, r);
export const tierLabel = (t: SlaTier | string): string => label(TIER_LABELS, t);
export const statusLabel = (s: string): string => label(STATUS_LABELS, s);
export const escalationStatusLabel = (s: string): string => label(ESCALATION_STATUS_LABELS, s);
export const channelLabel = (c: string): string => label(CHANNEL_LABELS, c);
export const escalationLevelLabel = (level: number): string =>
  level >= 2 ? `第 ${level} 级督办（建议约谈）` : '逾期督办';
/** A notification's title; a kind without one reads as a plain notice, never as its code. */
export const notificationTitle = (kind: string): string => NOTIFICATION_TITLES[kind] ?? '系统通知';

/** '2026-11-30T09:30:00.000Z' → '2026年11月30日 17:30' (Beijing time). */
export function beijingTime(iso: string): string {
  const d = new Date(Date.parse(iso) + 8 * 3_600_000);
  if (Number.isNaN(d.getTime())) return iso;
  const hh = String(d.getUTCHours()).padStart(2, '0');
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  return `${d.getUTCFullYear()}年${d.getUTCMonth() + 1}月${d.getUTCDate()}日 ${hh}:${mm}`;
}

/** An ISO-8601 / RFC 3339 instant inside a text (with its time and zone). */
const ISO_INSTANT = /\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})/g;

/** Every code a machine-written text may carry, with its label (tiers, results, statuses). */
const CODE_LABELS: Record<string, string> = {
  ...STATUS_LABELS,
  ...RESULT_LABELS,
  ...TIER_LABELS,
};
const CODE = new RegExp(
  `(?<![A-Za-z0-9_-])(${Object.keys(CODE_LABELS)
    .sort((a, b) => b.length - a.length)
    .join('|')})(?![A-Za-z0-9_-])`,
  'g',
);

/**
 * A text as a person should read it: every ISO instant in Beijing time, Chinese format, and every code
 * standing on its own as its label. For texts written before they were formatted where they are made
 * (older notifications, in-flight activities of older workflow code), and as a guard at every edge.
 */
export function readableText(text: string): string {
  return text
    .replace(ISO_INSTANT, (iso) => beijingTime(iso))
    .replace(CODE, (code) => CODE_LABELS[code] ?? code);
}

/** How a notification reads: its title and its text, and when it was sent (Beijing time). */
export function notificationText(n: { kind: string; message: string; createdAt: Date | string }): {
  title: string;
  text: string;
  createdAtText: string;
} {
  const at = typeof n.createdAt === 'string' ? n.createdAt : n.createdAt.toISOString();
  return { title: notificationTitle(n.kind), text: readableText(n.message), createdAtText: beijingTime(at) };
}
