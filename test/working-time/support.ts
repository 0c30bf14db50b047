// Test helpers: write and read instants as Shanghai wall-clock 'YYYY-MM-DD HH:MM[:SS]'.
import { shanghaiDateOf, shanghaiInstant, shanghaiMinuteOfDay } from '../../domain/working-time/index.ts';

export function at(text: string): Date {
  const match = /^(\d{4}-\d{2}-\d{2}) (\d{2}):(\d{2})(?::(\d{2}))?$/.exec(text);
  if (!match) throw new Error(`bad test instant: ${text}`);
  const [, date, h, m, s] = match;
  return shanghaiInstant(date ?? '', Number(h) * 60 + Number(m) + Number(s ?? 0) / 60);
}

export function show(d: Date): string {
  const minute = shanghaiMinuteOfDay(d);
  const h = Math.floor(minute / 60);
  const m = Math.floor(minute % 60);
  const s = Math.round((minute * 60) % 60);
  const hhmm = `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
  return `${shanghaiDateOf(d)} ${hhmm}${s === 0 ? '' : `:${String(s).padStart(2, '0')}`}`;
}
