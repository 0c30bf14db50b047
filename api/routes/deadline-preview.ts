/**
 * Public deadline preview: a requester sees the due time before sending, and anyone can check the rule.
 * No personal data, no login.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { CalendarSource } from '../../activities/calendar-source.ts';
import { computeDeadline, coverageGap } from '../../domain/working-time/index.ts';
import { unprocessable } from '../problem.ts';
import { Problem } from '../schemas/common.ts';

export const TierSchema = Type.Union([Type.Literal('30m'), Type.Literal('1d'), Type.Literal('2d')], {
  description: '时限档次：30m = 30 分钟（工作时间），1d = 1 个工作日，2d = 2 个工作日',
});

export const CoverageGapSchema = Type.Object({
  year: Type.Integer({ description: '尚无官方放假安排的年度' }),
  daysUntil: Type.Integer({ description: '距该年度开始的天数；0 或负数表示已开始' }),
  message: Type.String(),
});

export const deadlinePreviewRoutes: FastifyPluginAsyncTypebox<{
  calendar: CalendarSource;
  clock: () => Date;
}> = async (app, { calendar, clock }) => {
  app.get(
    '/api/v1/calendar/coverage',
    {
      config: { public: true },
      schema: {
        tags: ['时限'],
        summary: '工作日历覆盖情况：哪些年度已有官方放假安排，以及即将到来、尚未导入的年度（提前 60 天提示）',
        response: {
          200: Type.Object({
            coveredYears: Type.Array(Type.Integer()),
            gap: Type.Union([CoverageGapSchema, Type.Null()]),
          }),
          429: Problem,
        },
      },
    },
    async () => {
      const { data } = await calendar.current();
      return { coveredYears: data.coveredYears, gap: coverageGap(data, clock()) ?? null };
    },
  );

  app.get(
    '/api/v1/deadline-preview',
    {
      config: { public: true },
      schema: {
        tags: ['时限'],
        summary: '预览办理时限',
        querystring: Type.Object(
          {
            tier: TierSchema,
            receivedAt: Type.Optional(
              Type.String({ format: 'date-time', description: '收到时间（ISO-8601），默认为现在' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            tier: TierSchema,
            receivedAt: Type.String({ format: 'date-time' }),
            effectiveReceivedAt: Type.String({ format: 'date-time' }),
            dueAt: Type.String({ format: 'date-time' }),
            flags: Type.Array(Type.String()),
          }),
          400: Problem,
          422: Problem,
          429: Problem,
        },
      },
    },
    async (req) => {
      const receivedAt = req.query.receivedAt ? new Date(req.query.receivedAt) : clock();
      if (Number.isNaN(receivedAt.getTime())) {
        throw unprocessable('收到时间无效', [
          { pointer: '/querystring/receivedAt', detail: '不是有效的时间' },
        ]);
      }
      // The working-time walk is for real dates; far past or future years are no deadline anyone needs.
      const year = receivedAt.getUTCFullYear();
      if (year < 2000 || year > 2100) {
        throw unprocessable('收到时间超出可计算的范围（2000–2100 年）', [
          { pointer: '/querystring/receivedAt', detail: '须在 2000–2100 年之间' },
        ]);
      }
      const { data, rules } = await calendar.current();
      const d = computeDeadline(receivedAt, req.query.tier, data, rules);
      return {
        tier: req.query.tier,
        receivedAt: receivedAt.toISOString(),
        effectiveReceivedAt: d.effectiveReceivedAt.toISOString(),
        dueAt: d.dueAt.toISOString(),
        flags: [...d.flags],
      };
    },
  );
};
