// The statutory public holidays of 《全国年节及纪念日放假办法》 (as amended 2024, in force 2025), for years whose
// official schedule (国务院办公厅 放假安排, with bridge days and make-up working days) is not known yet.
//
//   元旦 Jan 1 · 春节 4 days, 除夕 to 正月初三 · 清明 1 day (the solar term) · 劳动节 May 1–2 ·
//   端午 五月初五 · 中秋 八月十五 · 国庆 Oct 1–3
//
// Lunar dates and the solar term come from `lunar-typescript` (a well-kept astronomical calendar library, pure
// computation). The official schedule moves days around these (bridges, make-up Saturdays), so deadlines counted
// from the law alone are provisional until an administrator imports the year's schedule.

import { Lunar, Solar } from 'lunar-typescript';
import type { ShanghaiDate } from './shanghai.ts';

const pad = (n: number) => String(n).padStart(2, '0');
const ymd = (y: number, m: number, d: number): ShanghaiDate => `${y}-${pad(m)}-${pad(d)}`;
const solarYmd = (s: Solar): ShanghaiDate => ymd(s.getYear(), s.getMonth(), s.getDay());

function computeStatutoryHolidays(year: number): Map<ShanghaiDate, string> {
  const days = new Map<ShanghaiDate, string>();
  const add = (date: ShanghaiDate, name: string) => {
    const existing = days.get(date);
    // 中秋 can fall inside 国庆 (2028-10-03): one day off, both names.
    days.set(date, existing && existing !== name ? `${existing}、${name}` : name);
  };
  add(ymd(year, 1, 1), '元旦');
  // 除夕 is the day before 正月初一, whatever the length of the last lunar month.
  const newYear = Lunar.fromYmd(year, 1, 1).getSolar();
  for (let offset = -1; offset <= 2; offset++) add(solarYmd(newYear.next(offset)), '春节');
  const qingming = Solar.fromYmd(year, 4, 15).getLunar().getJieQiTable().清明;
  if (qingming && qingming.getYear() === year) add(solarYmd(qingming), '清明节');
  add(ymd(year, 5, 1), '劳动节');
  add(ymd(year, 5, 2), '劳动节');
  add(solarYmd(Lunar.fromYmd(year, 5, 5).getSolar()), '端午节');
  add(solarYmd(Lunar.fromYmd(year, 8, 15).getSolar()), '中秋节');
  for (const d of [1, 2, 3]) add(ymd(year, 10, d), '国庆节');
  return days;
}

const cache = new Map<number, ReadonlyMap<ShanghaiDate, string>>();

/**
 * The statutory holidays of `year` by Shanghai date → festival name. Deterministic and memoised per year. All of
 * them fall within `year` (正月初一 is never before Jan 21, so 除夕 is never in the year before).
 */
export function statutoryHolidays(year: number): ReadonlyMap<ShanghaiDate, string> {
  if (!Number.isInteger(year) || year < 1900 || year > 2099)
    throw new RangeError(`no statutory holiday rule for year ${year}`);
  let days = cache.get(year);
  if (!days) {
    days = computeStatutoryHolidays(year);
    cache.set(year, days);
  }
  return days;
}
