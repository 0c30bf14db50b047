/** Display names of the API's codes (statuses, results, tiers, timeline events, roles). */
import { t } from './i18n.ts';

const STATUS: Record<string, string> = {
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
export const statusLabel = (s: string) => t(STATUS[s] ?? s);
export const STATUS_COLOR: Record<string, string> = {
  awaiting_registration: 'gold',
  registered: 'blue',
  returned: 'orange',
  answered: 'green',
  withdrawn: 'default',
  closed_after_return: 'default',
  offline: 'cyan',
  applicant_supplied: 'cyan',
  terminated: 'red',
};

const RESULT: Record<string, string> = {
  consistent: '一致',
  inconsistent: '不一致',
  not_found: '查无此人（事）',
  partial: '部分一致',
};
export const RESULTS = Object.keys(RESULT);
export const resultLabel = (r: string | null | undefined) => (r ? t(RESULT[r] ?? r) : '—');
export const RESULT_COLOR: Record<string, string> = {
  consistent: 'green',
  inconsistent: 'red',
  not_found: 'volcano',
  partial: 'orange',
};

const TIER: Record<string, string> = {
  '30m': '30 分钟（工作时间）',
  '1d': '1 个工作日',
  '2d': '2 个工作日',
};
export const TIERS = ['30m', '1d', '2d'] as const;
export const tierLabel = (tier: string) => t(TIER[tier] ?? tier);
const TIER_SHORT: Record<string, string> = { '30m': '30分钟', '1d': '1个工作日', '2d': '2个工作日' };
/** The tier in a few characters (chart axes, filters). */
export const tierShortLabel = (tier: string) => t(TIER_SHORT[tier] ?? tier);

const EVENT: Record<string, string> = {
  created: '发起协查',
  registered: '登记受理',
  answered: '反馈',
  returned: '退回',
  rerouted: '改派',
  closed_after_return: '退回后办结',
  reclassified: '调整时限档次',
  urged: '催办',
  withdrawn: '撤回',
  ended_offline: '线下核验',
  applicant_supplied: '申请人自行提交',
  reassigned: '转派',
  unclaimed: '取消认领',
  deadline_ordered: '责成限时办结',
  escalation_closed: '督办办结',
  handed_over: 'A/B 角接办',
  retimed: '时限调整（工作日历变更）',
  escalated: '逾期，提请联席会议办公室督办',
  escalated_level2: '责成时限再次逾期，建议约谈',
  reminder_sent: '到期提醒',
  order_missed: '责成时限再次逾期',
  office_reminded: '督办提醒',
  terminated: '流程已终止（对账关闭）',
  reconciled: '读模型已对账修复',
  auto_check_fallback: '自动核验未能答复，转人工办理',
};
export const eventLabel = (type: string) => t(EVENT[type] ?? type);
export const EVENT_COLOR: Record<string, string> = {
  created: 'blue',
  registered: 'blue',
  answered: 'green',
  returned: 'orange',
  withdrawn: 'gray',
  escalated: 'red',
  escalated_level2: 'red',
  order_missed: 'red',
  deadline_ordered: 'red',
  reminder_sent: 'orange',
};

const ROLE: Record<string, string> = {
  liaison: '联络员',
  agent: '经办人',
  supervisor: '督办员',
  admin: '管理员',
  reviewer: '市政府督查',
};
export const roleLabel = (r: string) => t(ROLE[r] ?? r);

const CHANNEL: Record<string, string> = {
  fax: '传真',
  oa: 'OA 系统',
  email: '电子邮件',
  on_site: '实地核查',
  other: '其他',
};
export const CHANNELS = Object.keys(CHANNEL);
export const channelLabel = (c: string) => t(CHANNEL[c] ?? c);

const LEDGER: Record<string, string> = {
  supplement_requested: '已请申请人补正',
  supplement_received: '已收到补正材料',
  on_site_check: '实地核查',
  note: '备注',
};
export const LEDGER_KINDS = Object.keys(LEDGER);
export const ledgerLabel = (k: string) => t(LEDGER[k] ?? k);

const ESC_STATUS: Record<string, string> = { open: '待处理', ordered: '已责成', closed: '已关闭' };
export const escStatusLabel = (s: string) => t(ESC_STATUS[s] ?? s);
export const escLevelLabel = (level: number) => (level >= 2 ? t('建议约谈') : t('逾期督办'));
/**
 * The 督办 state of a case in one line: its escalation level and what it means, and whether the office ordered
 * a deadline (责成限时办结); '' for a case without an open escalation. The full page's tag and the first screen's.
 */
export const supervisionText = (c: { escalationLevel: number; orderedDueAt?: string | null }) =>
  c.escalationLevel
    ? `${t('督办')} · ${t('第 {n} 级', { n: c.escalationLevel })}（${escLevelLabel(c.escalationLevel)}）${c.orderedDueAt ? ` · ${t('已责成')}` : ''}`
    : '';

const INTERVIEW_OUTCOME: Record<string, string> = {
  scheduled: '已安排约谈',
  interviewed: '已约谈',
  declined: '市政府未予约谈',
};
export const INTERVIEW_OUTCOMES = Object.keys(INTERVIEW_OUTCOME);
export const interviewOutcomeLabel = (o: string | null | undefined) =>
  o ? t(INTERVIEW_OUTCOME[o] ?? o) : t('待跟进');

const FLAG: Record<string, string> = {
  calendar_provisional: '该年度官方放假安排尚未发布，时限按法定节假日推定（暂定）',
  // Cases from before the provisional calendar: counted with weekends only.
  calendar_not_covered: '该年度工作日历未覆盖，时限按仅排除周末计算',
  demo_sla: '演示时限（DEV_SLA_SECONDS）',
};
export const flagLabel = (f: string) => t(FLAG[f] ?? f);
