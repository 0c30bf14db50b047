/**
 * Importing a year's official holiday schedule (administrators), when the State Council publishes it: pasted as a
 * table or sent as a list, checked, previewed as a diff against the calendar in force (which for that year is the
 * provisional one from the law), then applied. Applying makes the year covered, bumps the calendar version and
 * re-times every open case whose deadline window touches a changed day.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  loadCalendarLayers,
  loadOfficialSchedules,
  type OfficialScheduleRecord,
  officialScheduleKey,
} from '../../activities/calendar-source.ts';
import type { Db } from '../../db/client.ts';
import { staff, systemMeta } from '../../db/schema.ts';
import {
  parseScheduleTable,
  type ScheduleDay,
  scheduleDiff,
  scheduleProblems,
  scheduleWarnings,
} from '../../domain/working-time/official-schedule.ts';
import { requireRole } from '../plugins/auth.ts';
import { unprocessable } from '../problem.ts';
import { errorResponses } from '../schemas/common.ts';
import { openCasesTouched, recordCalendarChange, retimeOpenCases } from '../services/calendar-changes.ts';
import type { CaseGateway } from '../services/case-gateway.ts';
import { auditedWrite } from '../services/reference-data.ts';

const tags = ['管理：工作日历'];
const security = [{ bearer: [] }];

const YearParams = Type.Object({ year: Type.Integer({ minimum: 2000, maximum: 2099, description: '年度' }) });
const DayT = Type.Object(
  {
    date: Type.String({ description: 'YYYY-MM-DD（上海日期）', maxLength: 20 }),
    kind: Type.Union([Type.Literal('off'), Type.Literal('work')], { description: 'off 放假；work 调休上班' }),
    name: Type.String({ maxLength: 50, description: '节日名称，如“春节”“春节调休上班”' }),
  },
  { additionalProperties: false },
);
const ScheduleBody = Type.Object(
  {
    table: Type.Optional(
      Type.String({
        maxLength: 20_000,
        description: '粘贴的安排表，每行一天：日期,休|班,名称（例：2027-02-07,班,春节调休上班）',
      }),
    ),
    days: Type.Optional(
      Type.Array(DayT, { maxItems: 120, description: '或以列表给出全年的放假日和调休上班日' }),
    ),
  },
  { additionalProperties: false },
);
const Change = Type.Object({
  date: Type.String(),
  before: Type.Object({
    working: Type.Boolean(),
    name: Type.Union([Type.String(), Type.Null()]),
    provisional: Type.Boolean({ description: '原为暂定（按法定节假日推定）' }),
  }),
  after: Type.Object({ working: Type.Boolean(), name: Type.Union([Type.String(), Type.Null()]) }),
});
const Preview = Type.Object({
  year: Type.Integer(),
  days: Type.Array(DayT),
  changes: Type.Array(Change),
  warnings: Type.Array(Type.String(), { description: '可能有误之处（仍可导入）' }),
  openCasesAffected: Type.Integer({ description: '时限将被重新计算的在办协查数' }),
});

/** The body's days, checked; a 422 naming the line (table) or the list index (days) otherwise. */
function scheduleOf(year: number, body: { table?: string; days?: ScheduleDay[] }): ScheduleDay[] {
  if ((body.table === undefined) === (body.days === undefined))
    throw unprocessable('请粘贴安排表（table）或给出列表（days），二者选一', [
      { pointer: '/body', detail: '须且只能有 table 或 days 之一' },
    ]);
  if (body.table !== undefined) {
    const parsed = parseScheduleTable(body.table);
    const lines = body.table
      .split(/\r?\n/)
      .map((l, i) => [l.replace(/#.*/, '').trim(), i + 1] as const)
      .filter(([l]) => l)
      .map(([, n]) => n);
    const problems = [...parsed.problems, ...scheduleProblems(year, parsed.days, (i) => lines[i] ?? 0)];
    if (problems.length)
      throw unprocessable(
        `安排表有 ${problems.length} 处错误：${problems[0]?.detail}`,
        problems
          .slice(0, 20)
          .map((p) => ({ pointer: '/body/table', detail: p.at ? `第 ${p.at} 行：${p.detail}` : p.detail })),
      );
    return parsed.days;
  }
  const days = body.days ?? [];
  const problems = scheduleProblems(year, days);
  if (problems.length)
    throw unprocessable(
      `安排有 ${problems.length} 处错误：${problems[0]?.detail}`,
      problems.slice(0, 20).map((p) => ({ pointer: `/body/days/${p.at}`, detail: p.detail })),
    );
  return days;
}

async function preview(db: Db, year: number, days: ScheduleDay[]) {
  const changes = scheduleDiff(await loadCalendarLayers(db), year, days);
  const touched = changes.length
    ? (await openCasesTouched(db, { dates: changes.map((c) => c.date) })).cases
    : [];
  return {
    year,
    days: [...days].sort((a, b) => a.date.localeCompare(b.date)),
    changes,
    warnings: scheduleWarnings(year, days),
    openCasesAffected: touched.length,
  };
}

export const adminCalendarOfficialRoutes: FastifyPluginAsyncTypebox<{
  db: Db;
  gateway: CaseGateway;
}> = async (app, { db, gateway }) => {
  app.get(
    '/api/v1/admin/calendar/official',
    {
      schema: {
        tags,
        security,
        summary: '已导入的年度官方放假安排',
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                year: Type.Integer(),
                days: Type.Integer({ description: '列出的天数' }),
                importedBy: Type.String(),
                importedByName: Type.Union([Type.String(), Type.Null()], { description: '导入人姓名' }),
                importedAt: Type.String({ format: 'date-time' }),
              }),
            ),
          }),
          ...errorResponses(403),
        },
      },
    },
    async (req) => {
      requireRole(req, 'admin');
      const records = Object.values(await loadOfficialSchedules(db)).sort((a, b) => a.year - b.year);
      const people = new Map(
        (await db.select({ id: staff.id, name: staff.displayName }).from(staff)).map((p) => [p.id, p.name]),
      );
      return {
        items: records.map((r) => ({
          year: r.year,
          days: r.days.length,
          importedBy: r.importedBy,
          importedByName: people.get(r.importedBy) ?? null,
          importedAt: r.importedAt,
        })),
      };
    },
  );

  app.post(
    '/api/v1/admin/calendar/official/:year/preview',
    {
      schema: {
        tags,
        security,
        summary: '预览导入某年度官方放假安排：与现行日历（暂定或已导入）的差异，以及受影响的在办协查数',
        params: YearParams,
        body: ScheduleBody,
        response: { 200: Preview, ...errorResponses(403, 413, 415, 422) },
      },
    },
    async (req) => {
      requireRole(req, 'admin');
      return preview(db, req.params.year, scheduleOf(req.params.year, req.body));
    },
  );

  app.put(
    '/api/v1/admin/calendar/official/:year',
    {
      schema: {
        tags,
        security,
        summary: '导入（或更正）某年度官方放假安排，并重新计算受影响的在办协查时限',
        params: YearParams,
        body: ScheduleBody,
        response: {
          200: Type.Object({
            preview: Preview,
            retime: Type.Object({ signalled: Type.Integer(), failed: Type.Integer() }),
          }),
          ...errorResponses(403, 413, 415, 422),
        },
      },
    },
    async (req) =>
      auditedWrite(db, req, 'admin.calendar.official.import', { year: req.params.year }, async (who) => {
        requireRole(req, 'admin');
        const { year } = req.params;
        const days = scheduleOf(year, req.body);
        const result = await preview(db, year, days);
        const record: OfficialScheduleRecord = {
          year,
          days: result.days,
          importedBy: who.id,
          importedAt: new Date().toISOString(),
        };
        const dates = result.changes.map((c) => c.date);
        const pending = await db.transaction(async (tx) => {
          await tx
            .insert(systemMeta)
            .values({ key: officialScheduleKey(year), value: record })
            .onConflictDoUpdate({ target: systemMeta.key, set: { value: record, updatedAt: new Date() } });
          // The version moves even with no day changed (the year is now covered: no more warnings).
          return recordCalendarChange(tx as unknown as Db, { dates }, who.id);
        });
        const retime = await retimeOpenCases(gateway, req.log, pending);
        return { preview: result, retime };
      }),
  );
};
