/**
 * Start-up and shutdown shared by the entry points: everything started is stopped in reverse order,
 * whatever stage a failure or a signal (SIGINT, SIGTERM) reaches.
 */
import type { Logger } from 'pino';
import { ConfigError } from './config.ts';

export class Lifecycle {
  private readonly stops: { name: string; stop: () => Promise<void> }[] = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly log: Logger) {
    process.once('SIGINT', () => void this.shutdown('SIGINT').then(() => process.exit(0)));
    process.once('SIGTERM', () => void this.shutdown('SIGTERM').then(() => process.exit(0)));
  }

  /** Registers how to stop something that has just started. */
  onStop(name: string, stop: () => Promise<void> | void): void {
    this.stops.push({ name, stop: async () => stop() });
  }

  shutdown(reason: string): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info({ reason }, 'shutting down');
      for (const { name, stop } of this.stops.reverse()) {
        await stop().catch((err) => this.log.error({ err, name }, 'error while stopping'));
      }
      this.log.info('stopped');
    })();
    return this.stopping;
  }

  /** Stops what was started and exits non-zero. */
  async fail(err: unknown, what: string): Promise<never> {
    this.log.fatal({ err }, what);
    await this.shutdown(what);
    process.exit(1);
  }
}

/** Entry scripts end with this: a bad configuration is said in one line naming the variable. */
export function runMain(main: () => Promise<void>): void {
  main().catch((err) => {
    console.error(err instanceof ConfigError ? err.message : err);
    process.exit(1);
  });
}
