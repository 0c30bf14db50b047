/**
 * Complaint figures for the Art. 13 assessment (Zibo attachment 4, Art. 13): per unit complained about, the
 * complaints accepted in the period (Beijing dates), answered on time, answered late, overdue (late or still
 * unanswered past the deadline) and escalated. A direct grouped query on `complaints`: the case statistics
 * (their trigger and summary tables) are untouched.
 */
import { Type } from 'typebox';
import { complaintCounts } from '../../activities/complaint-activities.ts';
import type { Db } from '../../db/client.ts';
import { addCalendarDays, shanghaiInstant } from '../../domain/working-time/index.ts';
import type { StatsQuery } from './stats.ts';

export const ComplaintStatsSchema = Type.Array(
  Type.Object({
    unitId: Type.String({ description: '被投诉单位' }),
    unitName: Type.String(),
    received: Type.Integer({ description: '受理投诉数（按受理日期）' }),
    answeredOnTime: Type.Integer({ description: '按期办结答复' }),
    answeredLate: Type.Integer({ description: '逾期办结答复' }),
    overdue: Type.Integer({ description: '逾期（逾期答复或已过期限未答复）' }),
    escalated: Type.Integer({ description: '逾期报联席会议办公室督办' }),
  }),
  { description: '投诉（附件4 第十条）：各被投诉单位的受理、按期办结、逾期件数' },
);

export function complaintStats(db: Db, q: StatsQuery, now: Date) {
  const start = shanghaiInstant(q.from, 0);
  const end = shanghaiInstant(addCalendarDays(q.to, 1), 0);
  return complaintCounts(db, start, end, now, q.unit);
}
