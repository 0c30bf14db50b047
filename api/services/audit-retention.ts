/**
 * Audit retention (AUDIT_RETENTION_DAYS, at least 183 days): the worker purges the audit rows older than the
 * period on a timer (AUDIT_PURGE_HOURS), and `npm run audit:purge` does it by hand. Each purge leaves a
 * checkpoint of the last purged row's MAC (audit.ts `purgeAuditLog`), so `npm run audit:verify` still checks
 * the remaining chain end to end.
 */
import type { Logger } from 'pino';
import type { Db } from '../../db/client.ts';
import { purgeAuditLog } from './audit.ts';

/** The first run comes shortly after start (not during it), then one per interval. */
const FIRST_RUN_MS = 60_000;

export function startAuditPurge(
  db: Db,
  opts: {
    retentionDays: number;
    intervalMs: number;
    log: Pick<Logger, 'info' | 'error'>;
    firstRunMs?: number;
  },
): { stop(): void; runNow(): Promise<void> } {
  let running: Promise<void> | undefined;
  const run = (): Promise<void> => {
    running ??= purgeAuditLog(db, { retentionDays: opts.retentionDays, by: 'scheduler' })
      .then((r) => {
        if (r.purged)
          opts.log.info(
            {
              purged: r.purged,
              throughId: r.checkpoint?.throughId,
              cutoff: r.cutoff.toISOString(),
              retentionDays: opts.retentionDays,
            },
            'audit rows past their retention purged (checkpoint recorded)',
          );
      })
      .catch((err) => opts.log.error({ err }, 'could not purge the audit rows past their retention'))
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const first = setTimeout(run, opts.firstRunMs ?? FIRST_RUN_MS);
  const timer = setInterval(run, opts.intervalMs);
  first.unref();
  timer.unref();
  return {
    stop() {
      clearTimeout(first);
      clearInterval(timer);
    },
    runNow: run,
  };
}
