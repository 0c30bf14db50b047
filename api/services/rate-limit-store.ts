/**
 * A @fastify/rate-limit store in PostgreSQL (table `rate_limits`, migration 0009_shared_rate_limits), so that
 * every API process counts against the same budget: with two replicas behind one address a person gets the
 * configured limit, not twice it. One statement per request: the upsert counts the hit and starts a new
 * window when the old one has run out, atomically under concurrent requests from any process.
 *
 * Fixed windows, as the plugin's own stores; `continueExceeding` and `exponentialBackoff` are not supported
 * (the app uses neither). Expired rows are deleted now and then by whoever counts.
 */
import type { FastifyRateLimitStoreCtor, RateLimitOptions } from '@fastify/rate-limit';
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';

interface Counter {
  hits: number;
  ttl: number;
}
type IncrCallback = (err: Error | null, res: { current: number; ttl: number }) => void;

const SWEEP_EVERY_MS = 60_000;

export function pgRateLimitStore(db: Db): FastifyRateLimitStoreCtor {
  let lastSweep = 0;
  const sweep = () => {
    if (Date.now() - lastSweep < SWEEP_EVERY_MS) return;
    lastSweep = Date.now();
    db.execute(sql`delete from rate_limits where reset_at < now() - interval '1 minute'`).catch(() => {});
  };

  class PgRateLimitStore {
    /** The plugin constructs the store with its options (unused here); children carry a key prefix. */
    constructor(
      _options?: unknown,
      private readonly prefix = '',
    ) {}

    incr(key: string, cb: IncrCallback, timeWindow: number): void {
      const k = this.prefix + key;
      const window = Math.max(1, Math.trunc(timeWindow));
      db.execute(sql`
        insert into rate_limits (key, hits, reset_at)
        values (${k}, 1, now() + ${window} * interval '1 millisecond')
        on conflict (key) do update set
          hits = case when rate_limits.reset_at <= now() then 1 else rate_limits.hits + 1 end,
          reset_at = case when rate_limits.reset_at <= now() then excluded.reset_at else rate_limits.reset_at end
        returning hits, greatest(0, ceil(extract(epoch from reset_at - now()) * 1000))::int as ttl`)
        .then((res) => {
          const row = (res as unknown as { rows: Counter[] }).rows[0];
          cb(null, { current: Number(row?.hits ?? 1), ttl: Number(row?.ttl ?? window) });
          sweep();
        })
        .catch((err: unknown) =>
          cb(err instanceof Error ? err : new Error(String(err)), { current: 0, ttl: 0 }),
        );
    }

    read(key: string, cb: IncrCallback): void {
      db.execute(sql`
        select hits, greatest(0, ceil(extract(epoch from reset_at - now()) * 1000))::int as ttl
          from rate_limits where key = ${this.prefix + key} and reset_at > now()`)
        .then((res) => {
          const row = (res as unknown as { rows: Counter[] }).rows[0];
          cb(null, row ? { current: Number(row.hits), ttl: Number(row.ttl) } : { current: 0, ttl: 0 });
        })
        .catch((err: unknown) =>
          cb(err instanceof Error ? err : new Error(String(err)), { current: 0, ttl: 0 }),
        );
    }

    /** A route's own limit counts apart from the global one, as in the plugin's memory store. */
    child(routeOptions: RateLimitOptions & { routeInfo?: { method?: string | string[]; url?: string } }) {
      const route = routeOptions.routeInfo?.url ? `${routeOptions.routeInfo.url}|` : '';
      return new PgRateLimitStore(undefined, this.prefix + route);
    }
  }
  return PgRateLimitStore as unknown as FastifyRateLimitStoreCtor;
}
