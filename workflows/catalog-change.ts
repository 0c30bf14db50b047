/**
 * One adjustment of the exemption list (证明事项免提交清单动态调整, Zibo attachment 3, Art. 6–10), as a workflow
 * (ID `catalog-change-<id>`): a unit's liaison records the cause (调整事由: a law changed, an item was merged or
 * abolished…) with the date it arose; the unit must file its written request (书面申请: add, change or remove an
 * item) within 7 working days of that date (Art. 9). The workflow reminds the unit before the deadline, flags
 * the cause when the deadline passes unfiled, and marks a late filing 逾期申报. The joint-meeting office then
 * decides within its own deadline (configurable, 5 working days by default; overdue → flagged and the office's
 * supervisors told); an approval publishes the change to the catalog (a new item version, or the item
 * deactivated — history is never deleted), a rejection records its reason.
 *
 * Working-time math happens in activities (recorded in history); here only instants are compared.
 */
import * as wf from '@temporalio/workflow';
import { HOUSEKEEPING_ACTIVITY_OPTIONS } from './activity-options.ts';
import { refuse } from './case-rules.ts';
import type { Actor, SlaTier } from './definitions.ts';
import { Mutex } from './mutex.ts';

/** Art. 6–8: why the list must change. */
export type CauseKind = 'law' | 'delegation' | 'function' | 'omission' | 'government' | 'other';
export const CAUSE_KINDS: readonly CauseKind[] = [
  'law',
  'delegation',
  'function',
  'omission',
  'government',
  'other',
];
export type ChangeType = 'add' | 'change' | 'remove';
export const CHANGE_TYPES: readonly ChangeType[] = ['add', 'change', 'remove'];

export type CatalogChangeStatus = 'awaiting_filing' | 'filed' | 'approved' | 'rejected';

/** A catalog item's fields as the request proposes them (the admin catalog's fields). */
export interface ItemProposal {
  name: string;
  serviceItemName: string;
  serviceItemCode?: string | null;
  legalBasis: string;
  issuingUnitCodes: string[];
  defaultTier: SlaTier;
  exemptionMethod: string;
  requestSchema: Record<string, unknown>;
  responseSchema: Record<string, unknown>;
  subjectKinds?: ('person' | 'company')[];
}

export interface CatalogChangeInput {
  changeId: string;
  unitCode: string;
  cause: { kind: CauseKind; date: string; description: string; itemCode: string | null };
  recordedBy: Actor;
  recordedAt: string;
  /** Art. 9: working days from the cause date to file (7). */
  filingDays: number;
  /** Working days the office has to decide after the filing (CATALOG_DECISION_DAYS, default 5). */
  decisionDays: number;
}

export interface CatalogChangeRequest {
  changeType: ChangeType;
  /** The item concerned: the new code for `add`, the existing one for `change` / `remove`. */
  itemCode: string;
  /** The proposed fields (`add`, `change`); none for `remove`. */
  item: ItemProposal | null;
  /** 调整依据. */
  basis: string;
}

export interface CatalogChangeSnapshot extends CatalogChangeInput {
  status: CatalogChangeStatus;
  filingDueAt: string;
  filingRemindAt: string;
  reminderSentAt: string | null;
  /** Set when the filing deadline passed with nothing filed (the cause is flagged 逾期未申报). */
  filingOverdueAt: string | null;
  request: CatalogChangeRequest | null;
  filedBy: Actor | null;
  filedAt: string | null;
  /** Filed after the deadline (逾期申报). */
  filedLate: boolean;
  decisionDueAt: string | null;
  decisionOverdueAt: string | null;
  decidedBy: Actor | null;
  decidedAt: string | null;
  decisionReason: string | null;
  publishedVersion: number | null;
  publishedAt: string | null;
}

export interface CatalogChangeNotice {
  kind: string;
  audience: 'unit' | 'office';
  message: string;
}

export interface CatalogChangeActivities {
  /** The close of office hours on the `days`-th working day after the Shanghai date of `from`, and the reminder instant. */
  workingDaysDeadline(input: { from: string; days: number; remindDaysBefore: number }): Promise<{
    dueAt: string;
    remindAt: string;
  }>;
  /** Applies an approved change to the catalog (idempotent per change); returns the version published. */
  publishCatalogChange(input: {
    changeId: string;
    request: CatalogChangeRequest;
    decidedBy: Actor;
  }): Promise<{ version: number; publishedAt: string }>;
  /** Writes the read-model row and the notices (idempotent on the notice key). */
  projectCatalogChange(input: {
    snapshot: CatalogChangeSnapshot;
    event: string;
    at: string;
    notices?: CatalogChangeNotice[];
  }): Promise<void>;
}

export interface FileRequestInput {
  actor: Actor;
  request: CatalogChangeRequest;
}
export interface DecideInput {
  actor: Actor;
  approve: boolean;
  reason?: string;
}

export const fileRequestUpdate = wf.defineUpdate<CatalogChangeSnapshot, [FileRequestInput]>('fileRequest');
export const decideUpdate = wf.defineUpdate<CatalogChangeSnapshot, [DecideInput]>('decide');
export const catalogChangeQuery = wf.defineQuery<CatalogChangeSnapshot>('catalogChange');
/** Update-with-start: answers once the cause is in the read model (the API's synchronous "record"). */
export const recordedUpdate = wf.defineUpdate<CatalogChangeSnapshot, []>('recorded');

export const catalogChangeWorkflowId = (changeId: string) => `catalog-change-${changeId}`;
export const FILING_DAYS = 7;
export const DEFAULT_DECISION_DAYS = 5;
/** The unit is reminded when this many working days remain before the filing deadline. */
export const REMIND_DAYS_BEFORE = 2;

export const CAUSE_LABELS: Record<CauseKind, string> = {
  law: '法律法规颁布、修订或废止',
  delegation: '上级下放权力事项',
  function: '职能调整',
  omission: '清单遗漏',
  government: '政府决定取消事项',
  other: '其他情形',
};
export const CHANGE_TYPE_LABELS: Record<ChangeType, string> = { add: '新增', change: '变更', remove: '取消' };

const acts = wf.proxyActivities<CatalogChangeActivities>(HOUSEKEEPING_ACTIVITY_OPTIONS);
/** Publishing and projecting retry without a maximum: a decision must not be lost to a database outage. */
const durable = wf.proxyActivities<CatalogChangeActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

const nowIso = (): string => new Date(Date.now()).toISOString();
const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

function checkFiling(s: CatalogChangeSnapshot, { actor, request }: FileRequestInput): void {
  if (actor.unitCode !== s.unitCode || (actor.role !== 'liaison' && actor.role !== 'agent'))
    refuse('wrong_party', '只有提出调整事由的单位的联络员或代办员可以提交申请');
  if (s.status !== 'awaiting_filing') refuse('invalid_state', '该调整事由已提交申请');
  if (!CHANGE_TYPES.includes(request.changeType)) refuse('invalid_input', '调整类型须为新增、变更或取消');
  if (!request.basis || request.basis.trim().length < 2) refuse('invalid_input', '请填写调整依据');
  if (request.changeType !== 'remove' && !request.item)
    refuse('invalid_input', '新增或变更须填写拟调整的事项内容');
}

function checkDecision(s: CatalogChangeSnapshot, { actor, approve, reason }: DecideInput): void {
  if (actor.role !== 'supervisor' && actor.role !== 'admin')
    refuse('wrong_party', '只有联席会议办公室的督办人员或管理员可以审核清单调整申请');
  if (s.status === 'awaiting_filing') refuse('invalid_state', '该调整事由尚未提交申请');
  if (s.status !== 'filed') refuse('invalid_state', '该申请已审核');
  if (!approve && (!reason || reason.trim().length < 2)) refuse('invalid_input', '请填写不予通过的理由');
}

export async function catalogChange(input: CatalogChangeInput): Promise<CatalogChangeSnapshot> {
  const lock = new Mutex();
  let recorded: CatalogChangeSnapshot | undefined;
  wf.setHandler(recordedUpdate, async () => {
    await wf.condition(() => recorded !== undefined);
    return copy(recorded as CatalogChangeSnapshot);
  });
  const causeAt = `${input.cause.date}T04:00:00.000Z`; // noon in Beijing on the cause date
  const filing = await acts.workingDaysDeadline({
    from: causeAt,
    days: input.filingDays,
    remindDaysBefore: REMIND_DAYS_BEFORE,
  });
  const s: CatalogChangeSnapshot = {
    ...input,
    status: 'awaiting_filing',
    filingDueAt: filing.dueAt,
    filingRemindAt: filing.remindAt,
    reminderSentAt: null,
    filingOverdueAt: null,
    request: null,
    filedBy: null,
    filedAt: null,
    filedLate: false,
    decisionDueAt: null,
    decisionOverdueAt: null,
    decidedBy: null,
    decidedAt: null,
    decisionReason: null,
    publishedVersion: null,
    publishedAt: null,
  };
  const project = (event: string, notices: CatalogChangeNotice[] = []) =>
    durable.projectCatalogChange({ snapshot: copy(s), event, at: nowIso(), notices });

  wf.setHandler(catalogChangeQuery, () => s);

  wf.setHandler(
    fileRequestUpdate,
    (u) =>
      lock.runExclusive(async () => {
        checkFiling(s, u);
        const at = nowIso();
        const decision = await acts.workingDaysDeadline({
          from: at,
          days: input.decisionDays,
          remindDaysBefore: 0,
        });
        checkFiling(s, u);
        s.status = 'filed';
        s.request = u.request;
        s.filedBy = u.actor;
        s.filedAt = at;
        s.filedLate = Date.parse(at) > Date.parse(s.filingDueAt);
        s.decisionDueAt = decision.dueAt;
        await project('filed', [
          {
            kind: 'catalog_change_filed',
            audience: 'office',
            message: `${s.unitCode} 提交了清单调整申请（${CHANGE_TYPE_LABELS[u.request.changeType]} ${u.request.itemCode}）${s.filedLate ? '，属逾期申报' : ''}，请于 ${decision.dueAt} 前审核。`,
          },
        ]);
        return copy(s);
      }),
    { validator: (u) => checkFiling(s, u) },
  );

  wf.setHandler(
    decideUpdate,
    (u) =>
      lock.runExclusive(async () => {
        checkDecision(s, u);
        const at = nowIso();
        const request = s.request;
        if (u.approve && request) {
          let published: { version: number; publishedAt: string };
          try {
            published = await durable.publishCatalogChange({
              changeId: input.changeId,
              request,
              decidedBy: u.actor,
            });
          } catch (err) {
            // The catalog refuses the change as filed (an unknown item, an invalid template): the decision is refused.
            const cause = err instanceof wf.ActivityFailure ? err.cause : err;
            if (cause instanceof wf.ApplicationFailure && cause.type === 'CatalogChangeInvalid')
              refuse('invalid_input', `该申请无法发布：${cause.message}`);
            throw err;
          }
          s.publishedVersion = published.version;
          s.publishedAt = published.publishedAt;
        }
        s.status = u.approve ? 'approved' : 'rejected';
        s.decidedBy = u.actor;
        s.decidedAt = at;
        s.decisionReason = u.reason?.trim() || null;
        const what = request ? `${CHANGE_TYPE_LABELS[request.changeType]} ${request.itemCode}` : '';
        await project(u.approve ? 'approved' : 'rejected', [
          {
            kind: u.approve ? 'catalog_change_approved' : 'catalog_change_rejected',
            audience: 'unit',
            message: u.approve
              ? `清单调整申请（${what}）已审核通过，已发布第 ${s.publishedVersion ?? '-'} 版。`
              : `清单调整申请（${what}）未通过审核，理由：${s.decisionReason}`,
          },
        ]);
        return copy(s);
      }),
    { validator: (u) => checkDecision(s, u) },
  );

  await project('recorded');
  recorded = s;

  const filed = () => s.status !== 'awaiting_filing';
  const until = (iso: string) => Math.max(0, Date.parse(iso) - Date.now());

  // Before the filing deadline: one reminder while nothing is filed.
  if (!(await wf.condition(filed, until(s.filingRemindAt))) && !filed()) {
    await lock.runExclusive(async () => {
      if (filed()) return;
      s.reminderSentAt = nowIso();
      await project('filing_reminder', [
        {
          kind: 'catalog_change_reminder',
          audience: 'unit',
          message: `清单调整事由（${CAUSE_LABELS[s.cause.kind]}，${s.cause.date}）须于 ${s.filingDueAt} 前提交书面申请（第九条：7 个工作日内），请尽快申报。`,
        },
      ]);
    });
  }
  // The deadline passes unfiled: the cause is flagged, the unit and the office told; filing is still possible.
  if (!(await wf.condition(filed, until(s.filingDueAt))) && !filed()) {
    await lock.runExclusive(async () => {
      if (filed()) return;
      s.filingOverdueAt = nowIso();
      const message = `清单调整事由（${CAUSE_LABELS[s.cause.kind]}，${s.cause.date}）已超过申报时限 ${s.filingDueAt}，${s.unitCode} 尚未提交书面申请（逾期未申报）。`;
      await project('filing_overdue', [
        { kind: 'catalog_change_filing_overdue', audience: 'unit', message },
        { kind: 'catalog_change_filing_overdue', audience: 'office', message },
      ]);
    });
  }
  await wf.condition(filed);

  const decided = () => s.status === 'approved' || s.status === 'rejected';
  const due = s.decisionDueAt ?? nowIso();
  if (!(await wf.condition(decided, until(due))) && !decided()) {
    await lock.runExclusive(async () => {
      if (decided()) return;
      s.decisionOverdueAt = nowIso();
      await project('decision_overdue', [
        {
          kind: 'catalog_change_decision_overdue',
          audience: 'office',
          message: `${s.unitCode} 的清单调整申请（${s.request ? `${CHANGE_TYPE_LABELS[s.request.changeType]} ${s.request.itemCode}` : ''}）已超过审核时限 ${due}，请督办人员尽快审核。`,
        },
      ]);
    });
  }
  await wf.condition(decided);
  await wf.condition(wf.allHandlersFinished);
  return copy(s);
}
