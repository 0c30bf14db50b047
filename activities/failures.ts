/**
 * Errors that retrying cannot fix, as the named `ApplicationFailure` types of workflows/activity-options.ts.
 * They stay retryable by themselves: each workflow's retry policy decides whether to give up on them.
 */
import { ApplicationFailure } from '@temporalio/common';
import { NON_RETRYABLE } from '../workflows/activity-options.ts';

export const unknownUnit = (message: string): ApplicationFailure =>
  ApplicationFailure.create({ type: NON_RETRYABLE.unknownUnit, message });

export const invalidInput = (message: string, cause?: Error): ApplicationFailure =>
  ApplicationFailure.create({ type: NON_RETRYABLE.invalidInput, message, cause });

/** Runs a calculation; the domain's RangeError (an invalid instant or fraction) becomes `InvalidActivityInput`. */
export async function calculation<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof RangeError) throw invalidInput(err.message, err);
    throw err;
  }
}
