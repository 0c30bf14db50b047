/**
 * Assessment figures for the joint-meeting office (Zibo measures Art. 13): per issuing unit, per requesting
 * unit, city-wide and the ranking for 通报, as JSON, XLSX and CSV, and the daily trend. Aggregates carry no
 * personal data, so supervisors and administrators see them over every case (not only escalated ones);
 * everyone else is refused, and every read and refusal is in the audit log.
 */
import { PassThrough, type Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { eq } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Db } from '../../db/client.ts';
import { units } from '../../db/schema.ts';
import { staffOf } from '../plugins/auth.ts';
import { forbidden, Problem, unprocessable } from '../problem.ts';
import { errorResponses } from '../schemas/common.ts';
import { recordAudit } from '../services/audit.ts';
import { ComplaintStatsSchema, complaintStats } from '../services/complaint-stats.ts';
import {
  daysBetween,
  defaultPeriod,
  type StatsQuery,
  type Tier,
  trendStats,
  unitStats,
} from '../services/stats.ts';
import {
  CSV_TYPE,
  exportDisposition,
  statsCsv,
  writeStatsXlsx,
  XLSX_TYPE,
} from '../services/stats-export.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
/** The longest period one request may cover (three years and a day). */
export const MAX_PERIOD_DAYS = 1097;

const Day = (description: string) =>
  Type.String({ format: 'date', pattern: '^(19|20|21)\\d{2}-\\d{2}-\\d{2}$', description });

const StatsQuerystring = Type.Object(
  {
    from: Type.Optional(Day('起始日期（北京时间，含当日；按收件日期统计），默认本月 1 日')),
    to: Type.Optional(Day('截止日期（北京时间，含当日），默认今天')),
    tier: Type.Optional(
      Type.Union([Type.Literal('30m'), Type.Literal('1d'), Type.Literal('2d')], { description: '办理时限' }),
    ),
    unit: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: '单位代码：承办单位视图按出具单位、申请单位视图按需求单位筛选',
      }),
    ),
  },
  { additionalProperties: false },
);

const Rate = Nullable(Type.Number({ minimum: 0, maximum: 1, description: '0–1；无反馈时为 null' }));
const Minutes = Nullable(Type.Integer({ minimum: 0 }));
const Percentiles = Type.Object({ median: Minutes, p90: Minutes });
const TierCounts = Type.Object({ '30m': Type.Integer(), '1d': Type.Integer(), '2d': Type.Integer() });
const Period = Type.Object({ from: Type.String({ format: 'date' }), to: Type.String({ format: 'date' }) });

const UnitStatsSchema = Type.Object({
  period: Period,
  issuing: Type.Array(
    Type.Object({
      unitId: Type.String(),
      unitName: Type.String(),
      received: Type.Integer({ description: '收件数（改派的协查计入每个承办单位）' }),
      answeredOnTime: Type.Integer(),
      answeredLate: Type.Integer(),
      returned: Type.Integer(),
      reclassified: Type.Integer(),
      withdrawn: Type.Integer(),
      open: Type.Integer({ description: '在办（待登记、已登记）' }),
      overdueNow: Type.Integer({ description: '在办且已过办理时限' }),
      overdueByTier: TierCounts,
      onTimeRate: Rate,
      registerMinutes: Percentiles,
      answerMinutes: Percentiles,
      escalations: Type.Object({
        level1: Type.Integer(),
        level2: Type.Integer(),
        byOutcome: Type.Record(Type.String(), Type.Integer(), { description: '已办结督办：办结结果 → 件数' }),
      }),
      staffingCompliant: Type.Boolean({ description: '今日人员配备是否符合第六条' }),
    }),
  ),
  requesting: Type.Array(
    Type.Object({
      unitId: Type.String(),
      unitName: Type.String(),
      sent: Type.Integer(),
      verificationWaitMinutes: Type.Object({ total: Type.Integer({ minimum: 0 }), median: Minutes }),
      mismatchRate: Rate,
      ledgerFollowUps: Type.Integer(),
    }),
  ),
  city: Type.Object({
    received: Type.Integer(),
    answeredOnTime: Type.Integer(),
    answeredLate: Type.Integer(),
    onTimeRate: Rate,
    overdueNow: Type.Integer(),
    answerMinutes: Type.Object(
      { median: Minutes, p90: Minutes },
      { description: '全市反馈用时（工作分钟）：合并全部承办单位的反馈，不受 unit 筛选影响' },
    ),
  }),
  ranking: Type.Array(
    Type.Object({
      rank: Type.Integer({ minimum: 1 }),
      unitId: Type.String(),
      unitName: Type.String(),
      onTimeRate: Rate,
      received: Type.Integer(),
    }),
  ),
  complaints: ComplaintStatsSchema,
});

const TrendSchema = Type.Object({
  period: Period,
  days: Type.Array(
    Type.Object({
      date: Type.String({ format: 'date' }),
      received: Type.Integer(),
      answered: Type.Integer(),
      answeredOnTime: Type.Integer(),
      onTimeRate: Rate,
    }),
  ),
});

const fileResponse = (type: string, description: string) => ({
  description,
  content: { [type]: { schema: Type.Unsafe<Buffer | Readable>({ type: 'string', format: 'binary' }) } },
});

type Query = { from?: string; to?: string; tier?: Tier; unit?: string };

export const statsRoutes: FastifyPluginAsyncTypebox<{ db: Db; clock?: () => Date }> = async (
  app,
  { db, clock = () => new Date() },
) => {
  /**
   * Supervisors and administrators only; the refusal and the read are both audited. Returns the period
   * (defaults filled in) once it is valid.
   */
  async function authorise(req: FastifyRequest, view: string, q: Query): Promise<StatsQuery> {
    const who = staffOf(req);
    const base = { actorId: who.id, actorUnit: who.unitCode, action: 'stats.read', sourceIp: req.ip };
    const filters = { view, ...q };
    if (who.role !== 'supervisor' && who.role !== 'admin') {
      await recordAudit(db, { ...base, outcome: 'denied', detail: { ...filters, reason: 'role' } });
      throw forbidden('只有联席会议办公室的督办人员和管理员可以查看考核统计');
    }
    const period = defaultPeriod(clock(), q.from, q.to);
    if (period.from > period.to)
      throw unprocessable(
        q.from && q.to ? '起始日期不能晚于截止日期' : '起始日期不能晚于截止日期（未指定截止日期时为今天）',
        [{ pointer: q.to ? '/querystring/to' : '/querystring/from', detail: '起始日期晚于截止日期' }],
      );
    if (daysBetween(period.from, period.to) > MAX_PERIOD_DAYS)
      throw unprocessable('统计期间最长三年，请缩短期间', [
        { pointer: '/querystring/from', detail: `期间超过 ${MAX_PERIOD_DAYS} 天` },
      ]);
    await recordAudit(db, { ...base, outcome: 'allowed', detail: { ...filters, ...period } });
    return { ...period, ...(q.tier ? { tier: q.tier } : {}), ...(q.unit ? { unit: q.unit } : {}) };
  }

  const common = {
    tags: ['考核统计'],
    security: [{ bearer: [] }],
    querystring: StatsQuerystring,
  };

  app.get(
    '/api/v1/stats/units',
    {
      schema: {
        ...common,
        summary:
          '考核统计（第十三条）：各承办单位、各申请单位、全市与排名（按收件日期，北京时间；用时为工作分钟）',
        response: { 200: UnitStatsSchema, ...errorResponses(403, 422) },
      },
    },
    async (req) => {
      const q = await authorise(req, 'units', req.query);
      const now = clock();
      return { ...(await unitStats(db, q, now)), complaints: await complaintStats(db, q, now) };
    },
  );

  app.get(
    '/api/v1/stats/trend',
    {
      schema: {
        ...common,
        summary: '全市每日收件量与按时反馈率（第十三条；指定单位时为该承办单位）',
        response: { 200: TrendSchema, ...errorResponses(403, 422) },
      },
    },
    async (req) => {
      const q = await authorise(req, 'trend', req.query);
      return trendStats(db, q);
    },
  );

  app.get(
    '/api/v1/stats/units.xlsx',
    {
      schema: {
        ...common,
        summary: '考核统计导出（XLSX：承办单位、申请单位、全市、排名 四张工作表）',
        produces: [XLSX_TYPE],
        response: { 200: fileResponse(XLSX_TYPE, '考核统计工作簿'), ...errorResponses(403, 422) },
      },
    },
    async (req, reply) => {
      const q = await authorise(req, 'units.xlsx', req.query);
      const now = clock();
      const [stats, trend, unitName] = await Promise.all([
        unitStats(db, q, now),
        trendStats(db, q),
        q.unit ? nameOfUnit(db, q.unit) : undefined,
      ]);
      const body = new PassThrough();
      // Rows go out as they are committed; a failure half-way cuts the download (the status is sent).
      writeStatsXlsx(body, stats, trend.days, {
        generatedAt: now,
        ...(q.tier ? { tier: q.tier } : {}),
        ...(q.unit ? { unit: q.unit, unitName } : {}),
      }).catch((err: unknown) => {
        req.log.error({ err }, 'stats export failed');
        body.destroy(err instanceof Error ? err : new Problem(500, '导出失败', '导出失败'));
      });
      return reply
        .header('content-type', XLSX_TYPE)
        .header('content-disposition', exportDisposition(q.from, q.to, 'xlsx'))
        .header('cache-control', 'private, no-store')
        .send(body);
    },
  );

  app.get(
    '/api/v1/stats/units.csv',
    {
      schema: {
        ...common,
        summary: '考核统计导出（CSV：承办单位视图，UTF-8 带 BOM）',
        produces: ['text/csv'],
        response: {
          200: {
            description: '承办单位视图',
            content: { 'text/csv': { schema: Type.String() } },
          },
          ...errorResponses(403, 422),
        },
      },
    },
    async (req, reply) => {
      const q = await authorise(req, 'units.csv', req.query);
      const stats = await unitStats(db, q, clock());
      return reply
        .header('content-type', CSV_TYPE)
        .header('content-disposition', exportDisposition(q.from, q.to, 'csv'))
        .header('cache-control', 'private, no-store')
        .send(statsCsv(stats));
    },
  );
};

async function nameOfUnit(db: Db, code: string): Promise<string | undefined> {
  const [u] = await db.select({ name: units.name }).from(units).where(eq(units.code, code));
  return u?.name;
}
