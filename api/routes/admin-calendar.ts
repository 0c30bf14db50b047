/**
 * The working-day calendar (administrators): a day's kind (holiday, make-up working day, emergency
 * closure) on top of the library's official schedules, office hours, extra covered years and the
 * off-hours receipt rule. Each change bumps the calendar version and re-times the open cases it touches.
 *
 * Office hours are periods, each in force from a date (summer hours): an administrator adds one from today or
 * later, never in the past, so time already elapsed is never recomputed; the open cases whose deadline window
 * reaches the date are re-timed (counted in the old hours before it, in the new ones from it).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { and, asc, eq, gte, lte } from 'drizzle-orm';
import { Type } from 'typebox';
import { loadCalendar } from '../../activities/calendar-source.ts';
import type { Db } from '../../db/client.ts';
import { calendarDays, calendarSettings, staff } from '../../db/schema.ts';
import {
  DEFAULT_OFFICE_HOURS,
  dayKind,
  defaultCalendarData,
  hoursIntervals,
  type OfficeHours,
  type OfficeHoursPeriod,
  officeHoursOn,
  officeHoursPeriods,
  shanghaiDateOf,
  withOfficeHoursPeriod,
  yearOf,
} from '../../domain/working-time/index.ts';
import { requireRole } from '../plugins/auth.ts';
import { notFound, unprocessable } from '../problem.ts';
import { errorResponses } from '../schemas/common.ts';
import {
  bumpCalendarVersion,
  type CalendarChange,
  recordCalendarChange,
  retimeOpenCases,
} from '../services/calendar-changes.ts';
import type { CaseGateway } from '../services/case-gateway.ts';
import { auditedWrite } from '../services/reference-data.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });
const DayKindT = Type.Union([Type.Literal('work'), Type.Literal('off')], {
  description: 'work 上班；off 休息',
});
const HHMM = Type.String({
  pattern: '^(([01]\\d|2[0-3]):[0-5]\\d|24:00)$',
  description: 'HH:MM（上海时间）',
});
const DateParams = Type.Object({
  date: Type.String({ format: 'date', description: 'YYYY-MM-DD（上海日期）' }),
});

const DayView = Type.Object({
  date: Type.String(),
  kind: DayKindT,
  name: Nullable(Type.String()),
  source: Type.Union(
    [Type.Literal('override'), Type.Literal('library'), Type.Literal('statute'), Type.Literal('weekday')],
    {
      description:
        'override 管理员设定；library 国务院安排（日历库）；statute 该年度尚无官方安排，按《全国年节及纪念日放假办法》推定的法定节假日；weekday 按周一至周五',
    },
  ),
  guessed: Type.Boolean({ description: '该年度没有官方安排，按法定节假日和周末推定（暂定）' }),
  library: Type.Object({ kind: DayKindT, name: Nullable(Type.String()) }),
  override: Nullable(
    Type.Object({
      kind: DayKindT,
      name: Nullable(Type.String()),
      updatedBy: Type.String(),
      updatedAt: DateTime,
    }),
  ),
});
const Retime = Type.Object({
  signalled: Type.Integer({ description: '已通知重新计算时限的在办协查数' }),
  failed: Type.Integer(),
});
const Hours = Type.Array(Type.Object({ start: HHMM, end: HHMM }, { additionalProperties: false }), {
  minItems: 1,
  maxItems: 6,
  description: '办公时段，升序且不重叠',
});
const FromDate = Type.String({
  format: 'date',
  description: '执行日期 YYYY-MM-DD（上海日期），自该日起执行',
});
const Period = Type.Object({
  from: Nullable(FromDate),
  hours: Hours,
  current: Type.Boolean({ description: '今天执行的办公时间' }),
});
const Settings = Type.Object({
  officeHours: Type.Array(Type.Object({ start: HHMM, end: HHMM }, { additionalProperties: false }), {
    minItems: 1,
    maxItems: 6,
    description:
      '今天执行的办公时段，升序且不重叠。修改它等于新增一个自今天起执行的办公时间（不会重新计算今天以前的时间）；按日期生效的办公时间请用 POST /api/v1/admin/calendar/office-hours',
  }),
  extraCoveredYears: Type.Array(Type.Integer({ minimum: 2000, maximum: 2100 }), {
    maxItems: 50,
    uniqueItems: true,
    description: '日历库之外、已由管理员录入全年安排的年度',
  }),
  offHoursReceipt: Type.Union([Type.Literal('next-opening'), Type.Literal('as-is')], {
    description: 'next-opening：非办公时间收到的视为下一个办公时段开始时收到；as-is：按实际时间',
  }),
});
const SettingsView = Type.Intersect([
  Settings,
  Type.Object({
    officeHoursPeriods: Type.Array(Period, {
      description: '办公时间（按执行日期升序）：from 为 null 的一项自始执行，其余自执行日期起执行',
    }),
    libraryCoveredYears: Type.Array(Type.Integer()),
    updatedBy: Type.String(),
    updatedByName: Nullable(
      Type.String({ description: '上次修改人的姓名；从未修改过（系统默认设置）时为 null' }),
    ),
    updatedAt: DateTime,
  }),
]);

const library = defaultCalendarData();

async function dayView(db: Db, date: string) {
  const { data } = await loadCalendar(db);
  const [row] = await db.select().from(calendarDays).where(eq(calendarDays.date, date));
  const effective = dayKind(data, date);
  const lib = dayKind(library, date);
  return {
    date,
    kind: effective.working ? ('work' as const) : ('off' as const),
    name: effective.name ?? null,
    source: row
      ? ('override' as const)
      : effective.source === 'explicit'
        ? ('library' as const)
        : effective.source,
    guessed: effective.guessed,
    library: { kind: lib.working ? ('work' as const) : ('off' as const), name: lib.name ?? null },
    override: row
      ? { kind: row.kind, name: row.name, updatedBy: row.updatedBy, updatedAt: row.updatedAt.toISOString() }
      : null,
  };
}

const today = () => shanghaiDateOf(new Date());

async function storedPeriods(db: Db, forUpdate = false): Promise<OfficeHoursPeriod[]> {
  const query = db.select().from(calendarSettings).where(eq(calendarSettings.id, 1));
  const [s] = forUpdate ? await query.for('update') : await query;
  return s?.officeHours
    ? officeHoursPeriods(s.officeHours)
    : [{ from: null, hours: DEFAULT_OFFICE_HOURS.map((h) => ({ ...h })) }];
}

async function settingsView(db: Db) {
  const [s] = await db.select().from(calendarSettings).where(eq(calendarSettings.id, 1));
  const periods = await storedPeriods(db);
  const now = today();
  const current = periods.findLastIndex((p) => p.from === null || p.from <= now);
  return {
    officeHours: officeHoursOn({ officeHours: periods }, now),
    officeHoursPeriods: periods.map((p, i) => ({ ...p, current: i === current })),
    extraCoveredYears: s?.extraCoveredYears ?? [],
    offHoursReceipt: s?.offHoursReceipt === 'as-is' ? ('as-is' as const) : ('next-opening' as const),
    libraryCoveredYears: library.coveredYears,
    updatedBy: s?.updatedBy ?? 'system',
    updatedByName: s?.updatedBy
      ? ((await db.select({ n: staff.displayName }).from(staff).where(eq(staff.id, s.updatedBy)))[0]?.n ??
        null)
      : null,
    updatedAt: (s?.updatedAt ?? new Date(0)).toISOString(),
  };
}

const hoursKey = (hours: { start: string; end: string }[]) =>
  hours.map((h) => `${h.start}-${h.end}`).join(',');

function checkHours(hours: OfficeHours[], pointer: string) {
  try {
    hoursIntervals(hours);
  } catch (err) {
    throw unprocessable(`办公时段不符合要求：${err instanceof RangeError ? err.message : ''}`, [
      { pointer, detail: '办公时段须升序、不重叠，且开始早于结束' },
    ]);
  }
}

/**
 * Office-hours periods changed from `changedFrom` on (read and written under the row's lock), committed with the
 * change that re-times the open cases whose window reaches that date.
 */
async function savePeriods(
  db: Db,
  update: (periods: OfficeHoursPeriod[]) => OfficeHoursPeriod[],
  whoId: string,
  changedFrom: string,
): Promise<Awaited<ReturnType<typeof recordCalendarChange>>> {
  return db.transaction(async (tx) => {
    const periods = update(await storedPeriods(tx as unknown as Db, true));
    const values = { officeHours: periods, updatedBy: whoId, updatedAt: new Date() };
    await tx
      .insert(calendarSettings)
      .values({ id: 1, ...values })
      .onConflictDoUpdate({ target: calendarSettings.id, set: values });
    // The date from which the hours change: every open case's window starts today or earlier, so the cases
    // whose window reaches that date are exactly those whose deadline the change can move.
    return recordCalendarChange(tx as unknown as Db, { dates: [changedFrom] }, whoId);
  });
}

function checkYear(date: string, pointer = '/params/date') {
  const year = yearOf(date);
  if (year < 2000 || year > 2100)
    throw unprocessable('日期须在 2000 年至 2100 年之间', [{ pointer, detail: '年份超出范围' }]);
}

export const adminCalendarRoutes: FastifyPluginAsyncTypebox<{ db: Db; gateway: CaseGateway }> = async (
  app,
  { db, gateway },
) => {
  const tags = ['管理：工作日历'];
  const security = [{ bearer: [] }];

  app.get(
    '/api/v1/admin/calendar/days',
    {
      schema: {
        tags,
        security,
        summary: '管理员设定的日期（某年度）',
        querystring: Type.Object(
          { year: Type.Integer({ minimum: 2000, maximum: 2100 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                date: Type.String(),
                kind: DayKindT,
                name: Nullable(Type.String()),
                updatedBy: Type.String(),
                updatedAt: DateTime,
              }),
            ),
          }),
          ...errorResponses(403),
        },
      },
    },
    async (req) => {
      requireRole(req, 'admin');
      const y = req.query.year;
      const rows = await db
        .select()
        .from(calendarDays)
        .where(and(gte(calendarDays.date, `${y}-01-01`), lte(calendarDays.date, `${y}-12-31`)))
        .orderBy(asc(calendarDays.date));
      return {
        items: rows.map((r) => ({ ...r, updatedAt: r.updatedAt.toISOString() })),
      };
    },
  );

  app.get(
    '/api/v1/admin/calendar/days/:date',
    {
      schema: {
        tags,
        security,
        summary: '某日是否上班，以及依据（管理员设定 / 日历库 / 周末规则）',
        params: DateParams,
        response: { 200: DayView, ...errorResponses(403, 422) },
      },
    },
    async (req) => {
      requireRole(req, 'admin');
      checkYear(req.params.date);
      return dayView(db, req.params.date);
    },
  );

  app.put(
    '/api/v1/admin/calendar/days/:date',
    {
      schema: {
        tags,
        security,
        summary: '设定某日上班或休息（节假日、调休、临时闭馆），并重新计算受影响的在办协查时限',
        params: DateParams,
        body: Type.Object(
          { kind: DayKindT, name: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ day: DayView, retime: Retime }),
          ...errorResponses(403, 413, 415, 422),
        },
      },
    },
    async (req) =>
      auditedWrite(db, req, 'admin.calendar.day.set', { date: req.params.date, ...req.body }, async (who) => {
        requireRole(req, 'admin');
        const { date } = req.params;
        checkYear(date);
        const values = {
          kind: req.body.kind,
          name: req.body.name ?? null,
          updatedBy: who.id,
          updatedAt: new Date(),
        };
        const pending = await db.transaction(async (tx) => {
          await tx
            .insert(calendarDays)
            .values({ date, ...values })
            .onConflictDoUpdate({ target: calendarDays.date, set: values });
          return recordCalendarChange(tx as unknown as Db, { dates: [date] }, who.id);
        });
        const retime = await retimeOpenCases(gateway, req.log, pending);
        return { day: await dayView(db, date), retime };
      }),
  );

  app.delete(
    '/api/v1/admin/calendar/days/:date',
    {
      schema: {
        tags,
        security,
        summary: '撤销管理员对某日的设定，恢复日历库（国务院安排或周末规则）',
        params: DateParams,
        response: { 200: Type.Object({ day: DayView, retime: Retime }), ...errorResponses(403, 422) },
      },
    },
    async (req) =>
      auditedWrite(db, req, 'admin.calendar.day.revert', { date: req.params.date }, async (who) => {
        requireRole(req, 'admin');
        const { date } = req.params;
        checkYear(date);
        const pending = await db.transaction(async (tx) => {
          const rows = await tx.delete(calendarDays).where(eq(calendarDays.date, date)).returning();
          return rows.length
            ? recordCalendarChange(tx as unknown as Db, { dates: [date] }, who.id)
            : undefined;
        });
        const retime = pending
          ? await retimeOpenCases(gateway, req.log, pending)
          : { signalled: 0, failed: 0 };
        return { day: await dayView(db, date), retime };
      }),
  );

  app.get(
    '/api/v1/admin/calendar/settings',
    {
      schema: {
        tags,
        security,
        summary: '办公时段、补充覆盖年度、非办公时间收件规则',
        response: { 200: SettingsView, ...errorResponses(403) },
      },
    },
    async (req) => {
      requireRole(req, 'admin');
      return settingsView(db);
    },
  );

  app.put(
    '/api/v1/admin/calendar/settings',
    {
      schema: {
        tags,
        security,
        summary: '修改日历设置；办公时段或收件规则的修改会重新计算所有在办协查的时限',
        body: Type.Object(Settings.properties, { additionalProperties: false }),
        response: {
          200: Type.Object({ settings: SettingsView, retime: Retime }),
          ...errorResponses(403, 413, 415, 422),
        },
      },
    },
    async (req) =>
      auditedWrite(db, req, 'admin.calendar.settings', { ...req.body }, async (who) => {
        requireRole(req, 'admin');
        const next = req.body;
        checkHours(next.officeHours, '/body/officeHours');
        const before = await settingsView(db);
        const now = today();
        // Today's hours changed: a period from today (the past keeps its hours).
        const hoursChanged = hoursKey(before.officeHours) !== hoursKey(next.officeHours);
        const periods = hoursChanged
          ? withOfficeHoursPeriod(await storedPeriods(db), { from: now, hours: next.officeHours })
          : await storedPeriods(db);
        const values = {
          officeHours: periods,
          extraCoveredYears: next.extraCoveredYears,
          offHoursReceipt: next.offHoursReceipt,
          updatedBy: who.id,
          updatedAt: new Date(),
        };
        const years = [
          ...before.extraCoveredYears.filter((y) => !next.extraCoveredYears.includes(y)),
          ...next.extraCoveredYears.filter((y) => !before.extraCoveredYears.includes(y)),
        ];
        const change: CalendarChange | undefined =
          before.offHoursReceipt !== next.offHoursReceipt || (hoursChanged && years.length)
            ? { all: true }
            : hoursChanged
              ? { dates: [now] }
              : years.length
                ? { years }
                : undefined;
        const pending = await db.transaction(async (tx) => {
          await tx
            .insert(calendarSettings)
            .values({ id: 1, ...values })
            .onConflictDoUpdate({ target: calendarSettings.id, set: values });
          if (change) return recordCalendarChange(tx as unknown as Db, change, who.id);
          await bumpCalendarVersion(tx as unknown as Db);
          return undefined;
        });
        const retime = pending
          ? await retimeOpenCases(gateway, req.log, pending)
          : { signalled: 0, failed: 0 };
        return { settings: await settingsView(db), retime };
      }),
  );

  app.post(
    '/api/v1/admin/calendar/office-hours',
    {
      schema: {
        tags,
        security,
        summary:
          '新增自某日起执行的办公时间（如夏季作息）；执行日期须为今天或以后，之前已经过去的时间不重新计算，时限跨越该日的在办协查重新计算',
        body: Type.Object({ from: FromDate, hours: Hours }, { additionalProperties: false }),
        response: {
          200: Type.Object({ settings: SettingsView, retime: Retime }),
          ...errorResponses(403, 413, 415, 422),
        },
      },
    },
    async (req) =>
      auditedWrite(db, req, 'admin.calendar.office_hours.add', { ...req.body }, async (who) => {
        requireRole(req, 'admin');
        const { from, hours } = req.body;
        checkYear(from, '/body/from');
        const now = today();
        if (from < now)
          throw unprocessable(`执行日期 ${from} 已经过去：办公时间只能自今天（${now}）或以后的日期起调整`, [
            { pointer: '/body/from', detail: '执行日期不能早于今天' },
          ]);
        checkHours(hours, '/body/hours');
        const pending = await savePeriods(
          db,
          (periods) => withOfficeHoursPeriod(periods, { from, hours }),
          who.id,
          from,
        );
        const retime = await retimeOpenCases(gateway, req.log, pending);
        return { settings: await settingsView(db), retime };
      }),
  );

  app.delete(
    '/api/v1/admin/calendar/office-hours/:from',
    {
      schema: {
        tags,
        security,
        summary: '撤销尚未执行（执行日期为今天或以后）的办公时间',
        params: Type.Object({ from: FromDate }),
        response: {
          200: Type.Object({ settings: SettingsView, retime: Retime }),
          ...errorResponses(403, 404, 422),
        },
      },
    },
    async (req) =>
      auditedWrite(db, req, 'admin.calendar.office_hours.remove', { from: req.params.from }, async (who) => {
        requireRole(req, 'admin');
        const { from } = req.params;
        const now = today();
        if (from < now)
          throw unprocessable(`执行日期 ${from} 已经过去：已执行的办公时间不能撤销`, [
            { pointer: '/params/from', detail: '执行日期不能早于今天' },
          ]);
        const pending = await savePeriods(
          db,
          (periods) => {
            if (!periods.some((p) => p.from === from)) throw notFound(`没有自 ${from} 起执行的办公时间`);
            return periods.filter((p) => p.from !== from);
          },
          who.id,
          from,
        );
        const retime = await retimeOpenCases(gateway, req.log, pending);
        return { settings: await settingsView(db), retime };
      }),
  );
};
