import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, type WorkflowHandle, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, makeTelemetryFilterString, Runtime, type Worker } from '@temporalio/worker';
import { and, asc, eq } from 'drizzle-orm';
import { expect } from 'vitest';
import type { CalendarSource } from '../../activities/calendar-source.ts';
import { createCaseActivities } from '../../activities/case-activities.ts';
import { createCaseWorker, dataConverter } from '../../app/temporal.ts';
import type { Db } from '../../db/client.ts';
import { caseEvents, cases, escalations, notifications } from '../../db/schema.ts';
import {
  addCalendarDays,
  type CalendarData,
  computeDeadline,
  type DayEntry,
  DEFAULT_OFFICE_HOURS,
  DEFAULT_SLA_RULES,
  instantAtFraction,
  isWorkingDay,
  officeIntervals,
  shanghaiDateOf,
  shanghaiInstant,
  workingDaysAfter,
  workingMinutesBetween,
} from '../../domain/working-time/index.ts';
import type {
  CaseActivities,
  CaseEvent,
  DeadlineResult,
  NotificationRequest,
} from '../../workflows/activity-contract.ts';
import { type Actor, type CaseInput, openedUpdate, type SlaTier } from '../../workflows/definitions.ts';
import { verificationCase } from '../../workflows/verification-case.ts';
import {
  silentLog,
  TEST_CONTENT_CIPHER,
  TEST_PAYLOAD_KEY,
  TEST_SUBJECT_KEY,
  uniqueTaskQueue,
} from '../support/temporal.ts';

// The SDK's INFO lines (every worker state change) and core's warning that the test server is not a
// full server would drown vitest's report: warnings of the SDK and errors of core only.
try {
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR', other: 'ERROR' }) } },
  });
} catch {
  // Already installed in this process (another helper got there first): keep it.
}

// ─── Actors (the demo city of db/seed.ts) ─────────────────────────────────────────────────────

const actor = (staffId: string, name: string, unitCode: string, role: Actor['role']): Actor => ({
  staffId,
  name,
  unitCode,
  role,
});

export const requester = actor('stf-req-a', '王芳', 'ZB-RS', 'agent');
export const requesterLiaison = actor('stf-req-a-lia', '赵敏', 'ZB-RS', 'liaison');
/** Agent of the default issuing unit ZB-GA; A/B partner of `issuerPartner`. */
export const issuer = actor('stf-iss-a', '郑伟', 'ZB-GA', 'agent');
export const issuerPartner = actor('stf-iss-a2', '冯雪', 'ZB-GA', 'agent');
export const issuerLiaison = actor('stf-iss-a-lia', '陈静', 'ZB-GA', 'liaison');
/** Agent of another issuing unit (ZB-MZ). */
export const otherIssuer = actor('stf-iss-b', '褚亮', 'ZB-MZ', 'agent');
/** Supervisor of the joint-meeting office ZB-LXB. */
export const supervisor = actor('stf-office', '韩梅', 'ZB-LXB', 'supervisor');
export const admin = actor('stf-admin', '杨帆', 'ZB-LXB', 'admin');

let caseCounter = 0;
/** A workflow ID no other test of this run (or of an earlier run on the same server) uses. */
export const uniqueCaseId = (name: string): string => `case-${name}-${process.pid}-${++caseCounter}`;

export function caseInput(caseId: string, requestedAt: Date, overrides: Partial<CaseInput> = {}): CaseInput {
  return {
    caseId,
    requestingUnit: 'ZB-RS',
    issuingUnit: 'ZB-GA',
    catalog: { code: 'HJ-001', version: 1, name: '户籍信息证明' },
    subject: { kind: 'person', name: '张三', idNumber: '11010519491231002X' },
    fields: { declaredAddress: '淄博市张店区人民西路 1 号' },
    purpose: '社会保险参保登记',
    tier: '30m',
    createdBy: requester,
    requestedAt: requestedAt.toISOString(),
    ...overrides,
  };
}

// ─── A calendar the test controls ─────────────────────────────────────────────────────────────

/**
 * Weekends off, Monday–Friday on, default office hours, every year from 2020 to 2040 "covered" (so no
 * `calendar_provisional` flag whatever the real date is); `setDays` adds holidays or closures, as an
 * administrator would. `current()` hands out a copy, like the real source after a reload.
 */
export class TestCalendar implements CalendarSource {
  data: CalendarData = {
    days: {},
    coveredYears: Array.from({ length: 21 }, (_, i) => 2020 + i),
    officeHours: [{ from: null, hours: DEFAULT_OFFICE_HOURS.map((h) => ({ ...h })) }],
  };

  setDays(days: Record<string, DayEntry>): void {
    this.data = { ...this.data, days: { ...this.data.days, ...days } };
  }

  async current() {
    return { data: structuredClone(this.data), rules: DEFAULT_SLA_RULES };
  }
}

// ─── In-memory activities (no database) ───────────────────────────────────────────────────────

export interface ProjectedEvent extends CaseEvent {
  caseId: string;
  notifications: NotificationRequest[];
}

/**
 * The activity contract on the pure working-time module and arrays: every projection is recorded as
 * it arrives (at-least-once, so duplicates would show), document numbers are counted per case.
 */
export function memoryActivities(
  calendar: CalendarSource,
  hooks: { beforeWorkingMinutes?: () => Promise<void> } = {},
): CaseActivities & {
  projected: ProjectedEvent[];
  eventsOf(caseId: string): ProjectedEvent[];
} {
  const projected: ProjectedEvent[] = [];
  const docNumbers = new Map<string, string>();
  return {
    projected,
    eventsOf: (caseId) => projected.filter((e) => e.caseId === caseId),
    async allocateDocNumber({ caseId }) {
      const existing = docNumbers.get(caseId);
      if (existing) return existing;
      const docNumber = `测协〔2026〕${docNumbers.size + 1}号`;
      docNumbers.set(caseId, docNumber);
      return docNumber;
    },
    async allocateReplyNumber({ key }) {
      const existing = docNumbers.get(key);
      if (existing) return existing;
      const replyNumber = `测复〔2026〕${docNumbers.size + 1}号`;
      docNumbers.set(key, replyNumber);
      return replyNumber;
    },
    async computeDeadline({ receivedAt, tier, reminderFractions }) {
      const { data, rules } = await calendar.current();
      const d = computeDeadline(new Date(receivedAt), tier, data, rules);
      return {
        effectiveReceivedAt: d.effectiveReceivedAt.toISOString(),
        dueAt: d.dueAt.toISOString(),
        flags: [...d.flags],
        reminderAt: reminderFractions.map((f) =>
          instantAtFraction(d.effectiveReceivedAt, d.dueAt, f, data).at.toISOString(),
        ),
      };
    },
    async nextWorkingOpening({ after }) {
      const { data } = await calendar.current();
      const next = workingDaysAfter(new Date(after), 1, data);
      return shanghaiInstant(next.date, officeIntervals(data, next.date)[0]?.[0] ?? 540).toISOString();
    },
    async workingMinutesBetween({ from, to }) {
      await hooks.beforeWorkingMinutes?.();
      const { data } = await calendar.current();
      return Math.round(workingMinutesBetween(new Date(from), new Date(to), data).minutes);
    },
    async projectCase({ snapshot, event, notifications }) {
      projected.push({ ...event, caseId: snapshot.caseId, notifications: notifications ?? [] });
    },
  };
}

// ─── Virtual time ─────────────────────────────────────────────────────────────────────────────

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

export async function serverNow(env: TestWorkflowEnvironment): Promise<Date> {
  return new Date(await env.currentTimeMs());
}

/** Moves the test server's clock to `target` (never back); timers due on the way fire. */
export async function sleepUntil(env: TestWorkflowEnvironment, target: Date | string): Promise<void> {
  const ms = new Date(target).getTime() - (await env.currentTimeMs());
  if (ms > 0) await env.sleep(ms);
}

/**
 * Moves the clock to the `hhmm` (Shanghai) of a working day at least `minDays` calendar days ahead
 * (default: tomorrow or later; 0: today if that moment is still ahead), so each test starts at a known
 * office moment whatever the real date is. Returns that exact instant (the server is a few ms past it):
 * used as `requestedAt`, it keeps the deadlines on whole minutes.
 */
export async function startOfTest(
  env: TestWorkflowEnvironment,
  calendar: CalendarData,
  hhmm = '10:00',
  minDays = 1,
): Promise<Date> {
  const [h, m] = hhmm.split(':').map(Number);
  const now = await serverNow(env);
  const minute = (h ?? 10) * 60 + (m ?? 0);
  let day = addCalendarDays(shanghaiDateOf(now), minDays);
  while (!isWorkingDay(calendar, day) || shanghaiInstant(day, minute) < now) day = addCalendarDays(day, 1);
  const target = shanghaiInstant(day, minute);
  await sleepUntil(env, target);
  return target;
}

/** Polls (in real time, briefly) until `probe` passes: the worker processes timers after env.sleep returns. */
export async function eventually<T>(probe: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      return await probe();
    } catch (err) {
      if (Date.now() - started > timeoutMs) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** What the computeDeadline activity should answer for this calendar (the pure module, independently). */
export function expectedDeadline(
  data: CalendarData,
  receivedAt: Date | string,
  tier: SlaTier,
  fractions = [0.5, 0.8],
): DeadlineResult {
  const d = computeDeadline(new Date(receivedAt), tier, data, DEFAULT_SLA_RULES);
  return {
    effectiveReceivedAt: d.effectiveReceivedAt.toISOString(),
    dueAt: d.dueAt.toISOString(),
    flags: [...d.flags],
    reminderAt: fractions.map((f) =>
      instantAtFraction(d.effectiveReceivedAt, d.dueAt, f, data).at.toISOString(),
    ),
  };
}

/** The instant of `hhmm` Shanghai time on the n-th working day after the day of `from`. */
export function workingDayAt(data: CalendarData, from: Date | string, n: number, hhmm: string): Date {
  const [h, m] = hhmm.split(':').map(Number);
  const { date } = workingDaysAfter(new Date(from), n, data);
  return shanghaiInstant(date, (h ?? 0) * 60 + (m ?? 0));
}

/** |a - b| in milliseconds. */
export const gap = (a: Date | string, b: Date | string): number =>
  Math.abs(new Date(a).getTime() - new Date(b).getTime());

// ─── Workers and cases ────────────────────────────────────────────────────────────────────────

export type CaseHandle = WorkflowHandle<typeof verificationCase>;

/** A case worker on the real workflow bundle (built once per process, quietly) and its own task queue. */
export function quietCaseWorker(
  env: TestWorkflowEnvironment,
  activities: CaseActivities,
  taskQueue: string,
): Promise<Worker> {
  return createCaseWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    activities,
    payloadKey: TEST_PAYLOAD_KEY,
    log: silentLog,
  });
}

/** Cases started by openCase and not yet known to be finished. */
const startedCases = new Set<CaseHandle>();

/**
 * Terminates every case this process started that is still running. A case left open without its
 * worker would stall the time-skipping server: a due timer makes a workflow task nobody polls, and the
 * server does not skip time while a task is outstanding, so every later `env.sleep` would hang.
 */
export async function terminateOpenCases(): Promise<void> {
  const handles = [...startedCases];
  startedCases.clear();
  await Promise.all(
    handles.map((h) => h.terminate('test finished with the case still open').catch(() => {})),
  );
}

/**
 * Runs `fn` while a case worker with these activities polls a task queue of its own; afterwards (also
 * when `fn` fails) terminates the cases it left running.
 */
export async function withCaseWorker<T>(
  env: TestWorkflowEnvironment,
  activities: CaseActivities,
  fn: (taskQueue: string) => Promise<T>,
): Promise<T> {
  const taskQueue = uniqueTaskQueue('case');
  const worker = await quietCaseWorker(env, activities, taskQueue);
  return worker.runUntil(async () => {
    try {
      return await fn(taskQueue);
    } finally {
      await terminateOpenCases();
    }
  });
}

/** Starts the case workflow and waits (Update `opened`) until it is in the read model. */
export async function openCase(env: TestWorkflowEnvironment, taskQueue: string, input: CaseInput) {
  const handle = await env.client.workflow.start(verificationCase, {
    taskQueue,
    workflowId: input.caseId,
    args: [input],
  });
  startedCases.add(handle);
  const opened = await handle.executeUpdate(openedUpdate);
  return { handle, opened };
}

const plainClients = new WeakMap<TestWorkflowEnvironment, Client>();

/**
 * The result of a case that has finished (or is about to, within a few real seconds): fails fast when it
 * is still running. Never `env.client`'s `result()`: that one unlocks time skipping while it waits, and
 * a test server with no timer pending then jumps ten years ahead, which breaks every later test.
 */
export async function finalResult(env: TestWorkflowEnvironment, handle: CaseHandle) {
  let client = plainClients.get(env);
  if (!client) {
    client = new Client({
      connection: env.connection,
      namespace: env.namespace ?? 'default',
      dataConverter: dataConverter(TEST_PAYLOAD_KEY),
    });
    plainClients.set(env, client);
  }
  await eventually(async () => expect((await handle.describe()).status.name).toBe('COMPLETED'), 10_000);
  return client.workflow.getHandle<typeof verificationCase>(handle.workflowId).result();
}

/** The case is still running (e.g. waiting for the office to close an escalation). */
export async function expectStillRunning(handle: CaseHandle): Promise<void> {
  expect((await handle.describe()).status.name).toBe('RUNNING');
}

// ─── The read model ───────────────────────────────────────────────────────────────────────────

export async function caseRow(db: Db, caseId: string) {
  const [row] = await db.select().from(cases).where(eq(cases.id, caseId));
  if (!row) throw new Error(`no cases row for ${caseId}`);
  return row;
}

export const eventRows = (db: Db, caseId: string) =>
  db.select().from(caseEvents).where(eq(caseEvents.caseId, caseId)).orderBy(asc(caseEvents.seq));

export const escalationRows = (db: Db, caseId: string) =>
  db.select().from(escalations).where(eq(escalations.caseId, caseId)).orderBy(asc(escalations.id));

const notificationRows = (db: Db, caseId: string) =>
  db.select().from(notifications).where(eq(notifications.caseId, caseId)).orderBy(asc(notifications.id));

/**
 * Recipients of the notifications written with event `seq` (those sent at the event's instant): staff
 * IDs, and units as `unit:CODE`.
 */
export async function recipientsOf(db: Db, caseId: string, seq: number, kind?: string): Promise<string[]> {
  const [event] = await db
    .select()
    .from(caseEvents)
    .where(and(eq(caseEvents.caseId, caseId), eq(caseEvents.seq, seq)));
  if (!event) return [];
  const rows = await notificationRows(db, caseId);
  return rows
    .filter((r) => r.createdAt.getTime() === event.at.getTime() && (!kind || r.kind === kind))
    .map((r) => r.recipientStaffId ?? `unit:${r.recipientUnit}`)
    .sort();
}

// ─── Refusals ─────────────────────────────────────────────────────────────────────────────────

export type RefusalType =
  | 'CaseRefusal.wrong_party'
  | 'CaseRefusal.invalid_state'
  | 'CaseRefusal.invalid_input';

/** The Update was rejected by its validator with an ApplicationFailure of this type. */
export async function expectRefusal(call: Promise<unknown>, type: RefusalType): Promise<ApplicationFailure> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected a refusal ${type}`).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (err as WorkflowUpdateFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect((cause as ApplicationFailure).type).toBe(type);
  return cause as ApplicationFailure;
}

// ─── Histories for the replay test ────────────────────────────────────────────────────────────

export const HISTORIES_DIR = new URL('./histories/', import.meta.url);
export const RECORD_HISTORIES = process.env.RECORD_HISTORIES === '1';

const { History } = proto.temporal.api.history.v1;
type HistoryMessage = proto.temporal.api.history.v1.IHistory;

/*
 * Histories are stored as the protobuf object in JSON (64-bit integers as strings, enums by name, bytes
 * as base64) and loaded back with `History.fromObject`. Not the SDK's historyToJSON/historyFromJSON:
 * with this install's two copies of protobufjs (one under @temporalio/common, one under
 * @temporalio/proto) those throw "type must be a Type".
 */
const TO_JSON = { longs: String, enums: String, bytes: String } as const;

export function historyToText(history: HistoryMessage): string {
  return `${JSON.stringify(History.toObject(History.fromObject(history), TO_JSON))}\n`;
}

export function historyFromText(text: string): HistoryMessage {
  return History.fromObject(JSON.parse(text));
}

/**
 * With RECORD_HISTORIES=1, writes the (encrypted) history of a case for replay.test.ts, indented for reading
 * (biome leaves test/workflow/histories alone).
 */
export async function recordHistory(
  handle: { fetchHistory(): Promise<HistoryMessage> },
  name: string,
): Promise<void> {
  if (!RECORD_HISTORIES) return;
  mkdirSync(HISTORIES_DIR, { recursive: true });
  const file = fileURLToPath(new URL(`${name}.json`, HISTORIES_DIR));
  const text = historyToText(await handle.fetchHistory());
  writeFileSync(file, `${JSON.stringify(JSON.parse(text), null, 2)}\n`);
}

/** The real case activities on a test database and calendar, with the tests' keys and a silent log. */
export function realCaseActivities(db: Db, calendar: CalendarSource): CaseActivities {
  return createCaseActivities({
    db,
    calendar,
    subjectKey: TEST_SUBJECT_KEY,
    contentCipher: TEST_CONTENT_CIPHER,
    log: silentLog,
  });
}

type HistoryEvent = NonNullable<HistoryMessage['events']>[number];

/** The activity types scheduled on the activity task queue, in the order of the history. */
export function scheduledActivityTypes(events: readonly HistoryEvent[]): string[] {
  return events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
}

/**
 * The activity types that ran as local activities, in the order their results were recorded: the SDK's
 * `core_local_activity` marker keeps its bookkeeping (type, attempt, time) as plain JSON under `data`.
 */
export function localActivityTypes(events: readonly HistoryEvent[]): string[] {
  return events.flatMap((e) => {
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName !== 'core_local_activity') return [];
    const data = marker.details?.data?.payloads?.[0]?.data;
    if (!data) return [];
    return [(JSON.parse(Buffer.from(data).toString()) as { activity_type: string }).activity_type];
  });
}
