/**
 * A first-come, first-served lock for workflow code, like the `Mutex` of Temporal's safe-message-handlers
 * sample without the dependency: plain promises, no timers, so it is deterministic on replay. A free lock is
 * taken synchronously (the step starts in the same turn as an unlocked one would); a released lock passes
 * straight to the next waiter, in the order they asked.
 */
export class Mutex {
  private locked = false;
  private readonly waiting: Array<() => void> = [];

  async runExclusive<T>(step: () => Promise<T>): Promise<T> {
    if (this.locked) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.locked = true;
    try {
      return await step();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.locked = false;
    }
  }
}
