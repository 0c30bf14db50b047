/**
 * The case's rules without Temporal: the pure transitions of workflows/case-machine.ts, its timer agenda
 * (the single source of the workflow's next wake-up and of what it does when it wakes), and the workflow
 * Mutex. Plain vitest: no test server, no worker, no database.
 */
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import type { DeadlineResult } from '../../workflows/activity-contract.ts';
import * as m from '../../workflows/case-machine.ts';
import { currentEscalation, isWithIssuer } from '../../workflows/case-rules.ts';
import type { Actor, CaseInput, CaseSnapshot, SlaTier } from '../../workflows/definitions.ts';
import { beijingTime, resultLabel, tierLabel } from '../../workflows/labels.ts';
import { Mutex } from '../../workflows/mutex.ts';

const actor = (staffId: string, unitCode: string, role: Actor['role']): Actor => ({
  staffId,
  name: staffId,
  unitCode,
  role,
});
const requester = actor('req', 'ZB-RS', 'agent');
const issuer = actor('iss', 'ZB-GA', 'agent');
const issuerLiaison = actor('iss-lia', 'ZB-GA', 'liaison');
const otherIssuer = actor('iss-b', 'ZB-MZ', 'agent');
const supervisor = actor('office', 'ZB-LXB', 'supervisor');

const MIN = 60_000;
const T0 = Date.parse('2026-03-02T02:00:00.000Z'); // Monday 10:00 in Shanghai
const iso = (t: number) => new Date(t).toISOString();
const at = (minutes: number) => iso(T0 + minutes * MIN);

/** A deadline as the activity would answer: due `minutes` after `from`, reminders at 50% and 80%. */
function deadline(from: string, minutes: number): DeadlineResult {
  const start = Date.parse(from);
  return {
    effectiveReceivedAt: from,
    dueAt: iso(start + minutes * MIN),
    flags: [],
    reminderAt: [0.5, 0.8].map((f) => iso(start + Math.round(f * minutes) * MIN)),
  };
}
const TIER_MINUTES: Record<SlaTier, number> = { '30m': 30, '1d': 8 * 60, '2d': 16 * 60 };

function input(overrides: Partial<CaseInput> = {}): CaseInput {
  return {
    caseId: 'case-1',
    requestingUnit: 'ZB-RS',
    issuingUnit: 'ZB-GA',
    catalog: { code: 'HJ-001', version: 1, name: '户籍信息证明' },
    subject: { kind: 'person', name: '张三', idNumber: '11010519491231002X' },
    fields: {},
    purpose: '社会保险参保登记',
    tier: '30m',
    createdBy: requester,
    requestedAt: at(0),
    ...overrides,
  };
}
const opened = (overrides: Partial<CaseInput> = {}) =>
  m.open(input(overrides), '测协〔2026〕1号', deadline(at(0), TIER_MINUTES[overrides.tier ?? '30m']), at(0))
    .state;
/** The decision's state, and its single recorded entry. */
function single(d: m.Decision) {
  expect(d.effects).toHaveLength(1);
  const effect = d.effects[0];
  if (effect?.kind !== 'record') throw new Error('expected a record');
  return { state: d.state, entry: effect.entry };
}
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationFailure);
    return (err as ApplicationFailure).type ?? '';
  }
  throw new Error('expected a refusal');
}
/** A deep-frozen copy: a transition that modified its input would throw. */
function frozen<T>(value: T): T {
  const copy = JSON.parse(JSON.stringify(value));
  const freeze = (v: unknown) => {
    if (v && typeof v === 'object') {
      Object.freeze(v);
      for (const x of Object.values(v)) freeze(x);
    }
  };
  freeze(copy);
  return copy;
}
const registered = () => m.register(frozen(opened()), issuer, at(2)).state;
const escalated = (cs = registered()) =>
  m.onTimer(frozen(cs), { kind: 'deadline', at: T0 + 30 * MIN }, at(30));

describe('the case machine: actions', () => {
  it('opens a case awaiting registration with its first deadline and event', () => {
    const o = m.open(input(), '测协〔2026〕1号', deadline(at(0), 30), at(0));
    expect(o.state).toMatchObject({ status: 'awaiting_registration', seq: 1, tier: '30m' });
    expect(o.state.routing).toMatchObject({
      routingNo: 1,
      issuingUnit: 'ZB-GA',
      dueAt: at(30),
      remindersSent: 0,
    });
    expect(o.state.deadlines).toEqual([expect.objectContaining({ kind: 'received', dueAt: at(30) })]);
    expect(o.state.waitIntervals).toEqual([{ from: at(0) }]);
    expect(o.event).toMatchObject({ seq: 1, type: 'created', at: at(0), actorId: 'req' });
  });

  it('numbers an entry as the next event without touching the case it was given', () => {
    const cs = frozen(opened());
    const { state, event } = m.numbered(cs, { type: 'urged', actor: requester, reason: '请尽快' }, at(5));
    expect(state.seq).toBe(2);
    expect(cs.seq).toBe(1);
    expect(event).toMatchObject({ seq: 2, type: 'urged', at: at(5), actorId: 'req', actorUnit: 'ZB-RS' });
  });

  it('registers: assignee and time to register; a second registration or another unit is refused', () => {
    const { state, entry } = single(m.register(frozen(opened()), issuer, at(3)));
    expect(state).toMatchObject({ status: 'registered', assigneeId: 'iss' });
    expect(state.routing).toMatchObject({ registeredAt: at(3), registeredBy: 'iss' });
    expect(entry).toMatchObject({ type: 'registered', data: { timeToRegisterMinutes: 3 } });
    expect(refusal(() => m.register(state, issuer, at(4)))).toBe('CaseRefusal.invalid_state');
    expect(refusal(() => m.register(opened(), otherIssuer, at(4)))).toBe('CaseRefusal.wrong_party');
  });

  it('answers: closes the case and its waiting period, marks open escalations, keeps the facts', () => {
    const late = escalated().state;
    const facts = { answeredAt: at(40), lateFrom: at(30), lateWorkingMinutes: 10, waitedWorkingMinutes: 40 };
    const { state, entry } = single(
      m.respond(frozen(late), issuer, { result: 'consistent', fields: { a: 1 } }, facts, at(41)),
    );
    expect(state.status).toBe('answered');
    expect(state.answer).toMatchObject({
      late: true,
      lateWorkingMinutes: 10,
      answeredAt: at(40),
      attachments: [],
    });
    expect(state.answer).not.toHaveProperty('replyNumber');
    expect(state.completion).toMatchObject({ status: 'answered', at: at(41), by: 'iss' });
    expect(state.waitIntervals).toEqual([{ from: at(0), to: at(41) }]);
    expect(state.escalations[0]?.caseCompletedAt).toBe(at(41));
    expect(entry.notify?.[0]?.message).toContain('超时反馈');
    expect(
      refusal(() => m.respond(opened(), issuer, { result: 'consistent', fields: {} }, facts, at(1))),
    ).toBe('CaseRefusal.invalid_state');
  });

  it('returns to the requester, who re-routes with a new deadline counted from the re-route', () => {
    const ret = single(m.returnToRequester(frozen(registered()), issuer, { reason: '非本单位职责' }, at(10)));
    expect(ret.state).toMatchObject({ status: 'returned', assigneeId: undefined });
    expect(ret.state.waitIntervals).toEqual([{ from: at(0), to: at(10) }]);
    expect(refusal(() => m.returnToRequester(registered(), issuer, { reason: '' }, at(10)))).toBe(
      'CaseRefusal.invalid_input',
    );
    const d = deadline(at(60), 30);
    const re = single(m.reroute(frozen(ret.state), requester, { issuingUnit: 'ZB-MZ' }, d, at(60)));
    expect(re.state.status).toBe('awaiting_registration');
    expect(re.state.routing).toMatchObject({
      routingNo: 2,
      issuingUnit: 'ZB-MZ',
      dueAt: d.dueAt,
      remindersSent: 0,
    });
    expect(re.state.deadlines.at(-1)).toMatchObject({ routingNo: 2, kind: 'rerouted', reason: '改派' });
    expect(re.state.waitIntervals.at(-1)).toEqual({ from: at(60) });
    expect(re.entry.data).toMatchObject({ from: 'ZB-GA', to: 'ZB-MZ' });
    expect(refusal(() => m.reroute(ret.state, requester, { issuingUnit: 'ZB-GA' }, d, at(60)))).toBe(
      'CaseRefusal.invalid_input',
    );
  });

  it('reclassifies upwards: new deadline, reminders already passed count as sent, earlier deadline kept', () => {
    // A short working day: the 1-day deadline is 36 working minutes away, its first reminder already passed.
    const d = deadline(at(0), 36);
    const never = () => {
      throw new Error('the patch flag is asked only after the deadline');
    };
    const { state } = single(
      m.reclassify(frozen(registered()), issuer, { tier: '1d', reason: '需调阅纸质档案' }, d, at(20), never),
    );
    expect(state.tier).toBe('1d');
    expect(state.routing).toMatchObject({ dueAt: d.dueAt, remindersSent: 1 });
    expect(state.deadlines.map((x) => x.kind)).toEqual(['received', 'reclassified']);
    expect(state.reclassifications).toEqual([
      { from: '30m', to: '1d', reason: '需调阅纸质档案', at: at(20), by: 'iss' },
    ]);
    // After the deadline in force: refused when the patch applies, allowed on the old path.
    const late = () =>
      m.reclassify(registered(), issuer, { tier: '1d', reason: '需调阅纸质档案' }, d, at(31), () => true);
    expect(refusal(late)).toBe('CaseRefusal.invalid_state');
    expect(
      m.reclassify(registered(), issuer, { tier: '1d', reason: '需调阅纸质档案' }, d, at(31), () => false)
        .state.tier,
    ).toBe('1d');
    expect(
      refusal(() => m.reclassify(registered(), issuer, { tier: '30m', reason: '理由' }, d, at(5), never)),
    ).toBe('CaseRefusal.invalid_input');
  });

  it('urges at most every 30 minutes, to the assignee and backup once registered', () => {
    const first = single(m.urge(frozen(registered()), requester, '请尽快', at(5)));
    expect(first.state.lastUrgedAt).toBe(at(5));
    expect(first.entry.notify?.[0]?.audience).toBe('assignee_and_backup');
    expect(refusal(() => m.urge(first.state, requester, undefined, at(20)))).toBe(
      'CaseRefusal.invalid_state',
    );
    expect(m.urge(first.state, requester, undefined, at(35)).state.lastUrgedAt).toBe(at(35));
  });

  it('ends by the requester: withdrawal tells the issuing unit only while it holds the case', () => {
    const w = single(m.withdraw(frozen(registered()), requester, '申请人撤回', 5, at(5)));
    expect(w.state).toMatchObject({ status: 'withdrawn', waitedWorkingMinutes: 5 });
    expect(w.entry.notify).toHaveLength(1);
    const returned = m.returnToRequester(registered(), issuer, { reason: '非本单位职责' }, at(10)).state;
    expect(single(m.withdraw(returned, requester, '申请人撤回', 10, at(20))).entry.notify).toEqual([]);
    expect(refusal(() => m.withdraw(w.state, requester, '再次撤回', 5, at(6)))).toBe(
      'CaseRefusal.invalid_state',
    );
    const off = m.recordOffline(
      registered(),
      requester,
      { channel: 'fax', note: '传真核验' },
      3,
      at(3),
    ).state;
    expect(off.completion).toMatchObject({ status: 'offline', channel: 'fax', note: '传真核验' });
    expect(m.applicantProof(registered(), requester, '申请人自带证明', 3, at(3)).state.status).toBe(
      'applicant_supplied',
    );
    expect(m.closeAfterReturn(returned, requester, '不再需要', 10, at(30)).state.status).toBe(
      'closed_after_return',
    );
  });

  it('reassigns (liaison only) and hands over an absent agent’s case, ignoring what does not apply', () => {
    expect(m.reassign(frozen(registered()), issuerLiaison, { toStaffId: 'iss-2' }).state.assigneeId).toBe(
      'iss-2',
    );
    expect(refusal(() => m.reassign(registered(), issuer, { toStaffId: 'iss-2' }))).toBe(
      'CaseRefusal.wrong_party',
    );
    const hand = { fromStaffId: 'iss', toStaffId: 'iss-2', toName: '冯雪', reason: '请假' };
    const h = m.handOver(frozen(registered()), hand);
    expect(h?.state.assigneeId).toBe('iss-2');
    expect(h && single(h).entry.actor).toMatchObject({
      staffId: 'iss-2',
      onBehalfOf: 'iss',
      unitCode: 'ZB-GA',
    });
    expect(m.handOver(undefined, hand)).toBeUndefined();
    expect(m.handOver(opened(), hand)).toBeUndefined();
    expect(m.handOver(registered(), { ...hand, fromStaffId: 'someone-else' })).toBeUndefined();
  });

  it('lets the office order a deadline and close escalations', () => {
    expect(
      refusal(() => m.orderDeadline(registered(), supervisor, { dueAt: at(120), note: '限时' }, at(40))),
    ).toBe('CaseRefusal.invalid_state');
    const esc = escalated().state;
    const o = single(
      m.orderDeadline(frozen(esc), supervisor, { dueAt: at(120), note: '限今日办结' }, at(40)),
    );
    expect(o.state.escalations[0]).toMatchObject({
      status: 'ordered',
      orderedDueAt: at(120),
      orderedBy: 'office',
    });
    expect(o.state.deadlines.at(-1)).toMatchObject({ kind: 'ordered', dueAt: at(120), from: at(40) });
    const closed = single(
      m.closeEscalation(frozen(o.state), supervisor, { level: 1, outcome: '已督促办结' }, at(50)),
    );
    expect(closed.state.escalations[0]).toMatchObject({
      status: 'closed',
      closedAt: at(50),
      outcome: '已督促办结',
    });
    expect(
      refusal(() => m.closeEscalation(closed.state, supervisor, { level: 1, outcome: '再次' }, at(51))),
    ).toBe('CaseRefusal.invalid_state');
  });
});

describe('the case machine: a change of the working calendar', () => {
  const change = { dates: ['2026-03-02'], changedBy: 'admin' };
  it('concerns a case with the issuing unit, not escalated, whose window contains a changed date', () => {
    expect(m.retimeConcerns(registered(), change.dates)).toBe(true);
    expect(m.retimeConcerns(registered(), ['2026-03-01'])).toBe(false);
    expect(m.retimeConcerns(escalated().state, change.dates)).toBe(false);
    expect(m.retimeConcerns(m.withdraw(registered(), requester, '撤回', 1, at(1)).state, change.dates)).toBe(
      false,
    );
  });

  it('moves the deadline and records why; an unchanged deadline records nothing', () => {
    const cs = registered();
    const d = deadline(at(0), 90);
    const r = m.retime(frozen(cs), d, change, m.deadlineMark(cs), at(20), () => true);
    expect(r?.state.routing.dueAt).toBe(d.dueAt);
    expect(r?.state.deadlines.at(-1)).toMatchObject({ kind: 'retimed', dueAt: d.dueAt, from: at(20) });
    expect(m.retime(cs, deadline(at(0), 30), change, m.deadlineMark(cs), at(20), () => true)).toBeUndefined();
  });

  it('leaves a newer deadline set meanwhile in force (patch), but not an office order', () => {
    const cs = registered();
    const mark = m.deadlineMark(cs);
    const newer = m.reclassify(
      cs,
      issuer,
      { tier: '1d', reason: '纸质档案' },
      deadline(at(0), 480),
      at(5),
      () => true,
    ).state;
    expect(m.supersededSince(newer, mark)).toBe(true);
    expect(m.retime(newer, deadline(at(0), 90), change, mark, at(6), () => true)).toBeUndefined();
    // The old path (no patch) overwrote it: kept for the histories recorded before the patch.
    expect(m.retime(newer, deadline(at(0), 90), change, mark, at(6), () => false)).toBeDefined();
    const ordered = escalated().state;
    const o = m.orderDeadline(ordered, supervisor, { dueAt: at(120), note: '限时' }, at(40)).state;
    expect(m.supersededSince(o, m.deadlineMark(ordered))).toBe(false);
  });
});

describe('the case machine: facts fetched before deciding', () => {
  it('measures lateness against the deadline missed while in force (asking the patch only when it matters)', () => {
    const cs = registered();
    const reclassified = m.reclassify(
      cs,
      issuer,
      { tier: '1d', reason: '纸质档案' },
      deadline(at(0), 480),
      at(25),
      () => true,
    ).state;
    let asked = 0;
    const flag = (v: boolean) => () => {
      asked++;
      return v;
    };
    expect(m.lateSince(cs, at(20), flag(true))).toBeUndefined();
    expect(m.lateSince(cs, at(40), flag(true))).toBe(at(30));
    expect(asked).toBe(0);
    // Reclassified in time (before 30 min): nothing was missed.
    expect(m.lateSince(reclassified, at(60), flag(true))).toBeUndefined();
    const tooLate = m.reclassify(
      cs,
      issuer,
      { tier: '1d', reason: '纸质档案' },
      deadline(at(0), 480),
      at(35),
      () => false,
    ).state;
    expect(m.lateSince(tooLate, at(60), flag(true))).toBe(at(30));
    expect(m.lateSince(tooLate, at(60), flag(false))).toBeUndefined();
    expect(asked).toBe(2);
  });

  it('counts the clock pause over the periods with an issuing unit once the case was returned', () => {
    let asked = 0;
    const excludeReturns = () => {
      asked++;
      return true;
    };
    expect(m.waitPeriods(registered(), at(20), excludeReturns)).toEqual([{ from: at(0), to: at(20) }]);
    expect(asked).toBe(0);
    const returned = m.returnToRequester(registered(), issuer, { reason: '非本单位职责' }, at(10)).state;
    const rerouted = m.reroute(
      returned,
      requester,
      { issuingUnit: 'ZB-MZ' },
      deadline(at(60), 30),
      at(60),
    ).state;
    expect(m.waitPeriods(rerouted, at(70), excludeReturns)).toEqual([
      { from: at(0), to: at(10) },
      { from: at(60), to: at(70) },
    ]);
    expect(m.waitPeriods(rerouted, at(70), () => false)).toEqual([{ from: at(0), to: at(70) }]);
  });
});

describe('the case machine: timers', () => {
  it('before the deadline: the reminders at 50% and 80%, then the deadline; nothing once returned', () => {
    const cs = registered();
    expect(m.nextWake(cs, {})).toBe(T0 + 15 * MIN);
    expect(m.dueTimer(cs, {}, T0 + 14 * MIN)).toBeUndefined();
    expect(m.dueTimer(cs, {}, T0 + 15 * MIN)).toEqual({ kind: 'reminder', at: T0 + 15 * MIN });
    const r1 = single(m.onTimer(frozen(cs), { kind: 'reminder', at: T0 + 15 * MIN }, at(15)));
    expect(r1.state.routing.remindersSent).toBe(1);
    expect(r1.entry).toMatchObject({ type: 'reminder_sent', data: { n: 1, dueAt: at(30) } });
    expect(r1.entry.notify?.[0]?.audience).toBe('assignee_and_backup');
    expect(m.nextWake(r1.state, {})).toBe(T0 + 24 * MIN);
    const r2 = m.onTimer(r1.state, { kind: 'reminder', at: T0 + 24 * MIN }, at(24)).state;
    expect(m.nextWake(r2, {})).toBe(T0 + 30 * MIN);
    const returned = m.returnToRequester(cs, issuer, { reason: '非本单位职责' }, at(5)).state;
    expect(m.agenda(returned, { officeReminderAt: at(60) })).toEqual([]);
    expect(m.nextWake(returned, {})).toBeUndefined();
    expect(m.settledTimers(returned, { officeReminderAt: at(60) })).toEqual({});
  });

  it('a reminder is never sent once the deadline has passed: the escalation opens instead', () => {
    expect(m.dueTimer(registered(), {}, T0 + 45 * MIN)).toEqual({ kind: 'deadline', at: T0 + 30 * MIN });
  });

  it('the deadline opens the first level: the office reminder is planned before the event is recorded', () => {
    const d = escalated();
    expect(d.effects.map((e) => e.kind)).toEqual(['plan-office-reminder', 'record']);
    expect(d.state.routing.remindersSent).toBe(2);
    expect(d.state.escalations).toEqual([
      expect.objectContaining({
        level: 1,
        status: 'open',
        missedDueAt: at(30),
        routingNo: 1,
        openedAt: at(30),
      }),
    ]);
    const record = d.effects[1];
    expect(record?.kind === 'record' && record.entry.type).toBe('escalated');
    // Escalated: only the office's reminder is left, and the order once there is one.
    expect(m.agenda(d.state, {})).toEqual([]);
    expect(m.agenda(d.state, { officeReminderAt: at(24 * 60) })).toEqual([
      { kind: 'office', at: T0 + 24 * 60 * MIN },
    ]);
  });

  it('a missed first-level order opens the second level; a missed second-level order tells the office again', () => {
    const ordered = m.orderDeadline(
      escalated().state,
      supervisor,
      { dueAt: at(120), note: '限时' },
      at(40),
    ).state;
    const timers = { officeReminderAt: at(24 * 60) };
    expect(m.nextWake(ordered, timers)).toBe(T0 + 120 * MIN);
    expect(m.dueTimer(ordered, timers, T0 + 120 * MIN)).toEqual({ kind: 'order', at: T0 + 120 * MIN });
    // Both due: the order comes first.
    expect(m.dueTimer(ordered, { officeReminderAt: at(60) }, T0 + 130 * MIN)?.kind).toBe('order');
    const level2 = m.onTimer(frozen(ordered), { kind: 'order', at: T0 + 120 * MIN }, at(120));
    expect(level2.effects.map((e) => e.kind)).toEqual(['plan-office-reminder', 'record']);
    expect(level2.state.escalations.map((e) => [e.level, e.status, e.missedDueAt])).toEqual([
      [1, 'open', at(30)],
      [2, 'open', at(120)],
    ]);
    expect(level2.state.escalations[0]?.orderedDueAt).toBeUndefined();
    const ordered2 = m.orderDeadline(
      level2.state,
      supervisor,
      { dueAt: at(300), note: '再限时' },
      at(130),
    ).state;
    const missed = m.onTimer(ordered2, { kind: 'order', at: T0 + 300 * MIN }, at(300));
    const recordEffect = missed.effects[1];
    expect(recordEffect?.kind === 'record' && recordEffect.entry).toMatchObject({
      type: 'order_missed',
      data: { level: 2, missedDueAt: at(300) },
    });
    expect(missed.state.escalations).toHaveLength(2);
  });

  it('reminds the office of a pending escalation and plans the next reminder after recording; stops when none is open', () => {
    const esc = escalated().state;
    const r = m.onTimer(frozen(esc), { kind: 'office', at: T0 + 60 * MIN }, at(60));
    expect(r.effects.map((e) => e.kind)).toEqual(['record', 'plan-office-reminder']);
    expect(currentEscalation(r.state)?.officeRemindedAt).toBe(at(60));
    const ordered = m.orderDeadline(esc, supervisor, { dueAt: at(300), note: '限时' }, at(40)).state;
    const none = m.onTimer(ordered, { kind: 'office', at: T0 + 60 * MIN }, at(60));
    expect(none).toEqual({ state: ordered, effects: [], timers: {} });
  });

  it('a case is finished once closed and every escalation is closed', () => {
    const answered = m.respond(
      escalated().state,
      issuer,
      { result: 'consistent', fields: {} },
      { answeredAt: at(40), lateWorkingMinutes: 10, waitedWorkingMinutes: 40 },
      at(40),
    ).state;
    expect(m.finished(answered)).toBe(false);
    expect(
      m.finished(m.closeEscalation(answered, supervisor, { level: 1, outcome: '已办结' }, at(50)).state),
    ).toBe(true);
  });
});

// ─── Property-ish: whole lifecycles driven like the workflow shell ──────────────────────────────

/** A small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The wake-up the workflow computed before the machine (its hand-written `nextWake`), as an oracle. */
function legacyNextWake(cs: CaseSnapshot, officeReminderAt: string | undefined): number | undefined {
  const times: number[] = [];
  const escalatedHere = cs.escalations.findLast((e) => e.routingNo === cs.routing.routingNo);
  if (isWithIssuer(cs)) {
    if (!escalatedHere) {
      const reminder = cs.routing.reminderAt[cs.routing.remindersSent];
      if (reminder) times.push(Date.parse(reminder));
      times.push(Date.parse(cs.routing.dueAt));
    } else if (escalatedHere.status === 'ordered' && escalatedHere.orderedDueAt) {
      times.push(Date.parse(escalatedHere.orderedDueAt));
    }
    if (officeReminderAt) times.push(Date.parse(officeReminderAt));
  }
  return times.length ? Math.min(...times) : undefined;
}

/** Every notification text the random lifecycles below produced. */
const notified: string[] = [];

/** What the shell does with a decision's effects; the next opening is taken as a day later. */
function carryOut(
  d: m.Decision,
  timers: m.CaseTimers,
  now: number,
): { cs: CaseSnapshot; timers: m.CaseTimers } {
  let t = d.timers ?? timers;
  let cs = d.state;
  for (const e of d.effects) {
    if (e.kind === 'record') for (const n of e.entry.notify ?? []) notified.push(n.message);
    if (e.kind === 'record') cs = m.numbered(cs, e.entry, iso(now)).state;
    else t = { officeReminderAt: iso(now + 24 * 60 * MIN) };
  }
  return { cs, timers: t };
}

/** One user action that may apply now (refusals are skipped, as a validator would reject them). */
function someAction(cs: CaseSnapshot, now: number, rnd: () => number): m.Decision | undefined {
  const t = iso(now);
  const tries: Array<() => m.Decision | undefined> = [
    () => m.register(cs, { ...issuer, unitCode: cs.routing.issuingUnit }, t),
    () =>
      m.reclassify(
        cs,
        { ...issuer, unitCode: cs.routing.issuingUnit },
        { tier: cs.tier === '30m' ? '1d' : '2d', reason: '纸质档案' },
        deadline(cs.routing.receivedAt, TIER_MINUTES[cs.tier === '30m' ? '1d' : '2d']),
        t,
        () => true,
      ),
    () =>
      m.returnToRequester(cs, { ...issuer, unitCode: cs.routing.issuingUnit }, { reason: '非本单位职责' }, t),
    () =>
      m.reroute(
        cs,
        requester,
        { issuingUnit: cs.routing.issuingUnit === 'ZB-GA' ? 'ZB-MZ' : 'ZB-GA' },
        deadline(t, TIER_MINUTES[cs.tier]),
        t,
      ),
    () =>
      m.orderDeadline(
        cs,
        supervisor,
        { dueAt: iso(now + Math.round(rnd() * 600 + 1) * MIN), note: '限时' },
        t,
      ),
    () => {
      const open = cs.escalations.find((e) => e.status !== 'closed');
      return open
        ? m.closeEscalation(cs, supervisor, { level: open.level, outcome: '已督办' }, t)
        : undefined;
    },
    () => m.urge(cs, requester, undefined, t),
    () =>
      m.respond(
        cs,
        { ...issuer, unitCode: cs.routing.issuingUnit },
        { result: 'consistent', fields: {} },
        { answeredAt: t, lateWorkingMinutes: 0, waitedWorkingMinutes: 0 },
        t,
      ),
    () => m.withdraw(cs, requester, '申请人撤回', 0, t),
  ];
  const pick = tries[Math.floor(rnd() * tries.length)];
  try {
    return pick?.();
  } catch (err) {
    if (err instanceof ApplicationFailure) return undefined;
    throw err;
  }
}

describe('the case machine: nextWake and the timers agree (random lifecycles)', () => {
  const fired = new Set<string>();
  for (let seed = 1; seed <= 40; seed++) {
    it(`seed ${seed}: the wake-up is exactly when the first thing falls due, and matches the old formula`, () => {
      const rnd = prng(seed);
      const tier = (['30m', '1d', '2d'] as const)[seed % 3] ?? '30m';
      let cs = opened({ tier });
      let timers: m.CaseTimers = {};
      let now = T0;
      for (let step = 0; step < 200 && !m.finished(cs); step++) {
        timers = m.settledTimers(cs, timers);
        const wake = m.nextWake(cs, timers);
        expect(wake).toBe(legacyNextWake(cs, timers.officeReminderAt));
        if (wake !== undefined) {
          // Nothing is due before the wake-up; at the wake-up something is.
          expect(m.dueTimer(cs, timers, wake - 1)).toBeUndefined();
          expect(m.dueTimer(cs, timers, Math.max(now, wake))).toBeDefined();
          expect(m.agenda(cs, timers).every((i) => i.at >= wake)).toBe(true);
        } else {
          expect(m.dueTimer(cs, timers, now + 365 * 24 * 60 * MIN)).toBeUndefined();
        }
        // A message arrives before the wake-up (sometimes), or the timer fires.
        const messageFirst = wake === undefined || rnd() < 0.4;
        if (messageFirst) {
          now =
            wake === undefined
              ? now + Math.round(rnd() * 120 + 1) * MIN
              : now + Math.floor(rnd() * (wake - now));
          const d = someAction(cs, now, rnd);
          if (d) ({ cs, timers } = carryOut(d, timers, now));
        } else {
          now = Math.max(now, wake);
          const due = m.dueTimer(cs, timers, now);
          expect(due?.at).toBe(wake);
          if (due) fired.add(due.kind);
          if (due) ({ cs, timers } = carryOut(m.onTimer(cs, due, iso(now)), timers, now));
        }
        expect(cs.seq).toBeGreaterThanOrEqual(1);
      }
    });
  }

  it('the lifecycles above went through every kind of timer', () => {
    expect([...fired].sort()).toEqual(['deadline', 'office', 'order', 'reminder']);
  });

  it('every notification they sent reads Beijing time and Chinese labels: no ISO instant, no code', () => {
    expect(notified.length).toBeGreaterThan(40);
    expect(notified.some((n) => /\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}/.test(n))).toBe(true);
    for (const n of notified) {
      expect(n).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
      expect(n).not.toMatch(/\b(consistent|inconsistent|not_found|partial|30m|1d|2d)\b/);
    }
  });
});

describe('the workflow Mutex', () => {
  const tick = () => new Promise((r) => setTimeout(r, 0));
  it('runs steps one at a time, in the order they asked; a free lock starts the step at once', async () => {
    const lock = new Mutex();
    const log: string[] = [];
    let release: () => void = () => {};
    const first = lock.runExclusive(async () => {
      log.push('a:start');
      await new Promise<void>((r) => {
        release = r;
      });
      log.push('a:end');
    });
    expect(log).toEqual(['a:start']); // synchronously
    const second = lock.runExclusive(async () => {
      log.push('b');
    });
    const third = lock.runExclusive(async () => {
      log.push('c');
    });
    await tick();
    expect(log).toEqual(['a:start']);
    release();
    await Promise.all([first, second, third]);
    expect(log).toEqual(['a:start', 'a:end', 'b', 'c']);
  });

  it('passes the lock on when a step fails', async () => {
    const lock = new Mutex();
    await expect(lock.runExclusive(() => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    await expect(lock.runExclusive(async () => 'next')).resolves.toBe('next');
  });
});

describe('what people read', () => {
  it('instants in Beijing time, Chinese format; codes as their labels', () => {
    expect(beijingTime('2026-11-30T19:15:43.230Z')).toBe('2026年12月1日 03:15');
    expect(beijingTime('2026-12-01T09:30:00.000Z')).toBe('2026年12月1日 17:30');
    expect(beijingTime('2026-12-31T16:00:00.000Z')).toBe('2027年1月1日 00:00');
    expect(resultLabel('not_found')).toBe('查无此人（事）');
    expect(tierLabel('1d')).toBe('1 个工作日');
  });

  it('the answer says its result in Chinese', () => {
    const facts = { answeredAt: at(10), lateWorkingMinutes: 0, waitedWorkingMinutes: 10 };
    const answered = single(
      m.respond(registered(), issuer, { result: 'not_found', fields: {} }, facts, at(10)),
    );
    expect(answered.entry.notify?.[0]?.message).toBe('协查已反馈：查无此人（事）');
  });
});
