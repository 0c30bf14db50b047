/**
 * Retry policies (workflows/activity-options.ts): an activity failing with a named non-retryable type is
 * not retried — the respond Update fails at once and the case goes on — while a transient failure is
 * retried; housekeeping activities give up on a bad argument; the activities classify their errors.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invalidChange } from '../../activities/calendar-activities.ts';
import { calculation, unknownUnit } from '../../activities/failures.ts';
import {
  CASE_ACTIVITY_OPTIONS,
  HOUSEKEEPING_ACTIVITY_OPTIONS,
  NON_RETRYABLE,
} from '../../workflows/activity-options.ts';
import { registerUpdate, respondUpdate, snapshotQuery } from '../../workflows/definitions.ts';
import { createTimeSkippingEnv } from '../support/temporal.ts';
import {
  caseInput,
  issuer,
  memoryActivities,
  openCase,
  startOfTest,
  TestCalendar,
  uniqueCaseId,
  withCaseWorker,
} from './support.ts';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
});
afterAll(async () => {
  await env?.teardown();
});

describe('retry policies', () => {
  it('the policies name their non-retryable types; only housekeeping has a maximum of attempts', () => {
    expect(CASE_ACTIVITY_OPTIONS.retry?.nonRetryableErrorTypes).toEqual([NON_RETRYABLE.unknownUnit]);
    expect(CASE_ACTIVITY_OPTIONS.retry?.maximumAttempts).toBeUndefined();
    expect(HOUSEKEEPING_ACTIVITY_OPTIONS.retry?.nonRetryableErrorTypes).toEqual([NON_RETRYABLE.invalidInput]);
    expect(HOUSEKEEPING_ACTIVITY_OPTIONS.retry?.maximumAttempts).toBe(10);
  });

  it('an unknown unit fails the respond Update after one attempt and leaves the case as it was', async () => {
    const calendar = new TestCalendar();
    const acts = memoryActivities(calendar);
    let attempts = 0;
    acts.allocateReplyNumber = async ({ unitCode }) => {
      attempts++;
      throw unknownUnit(`unknown issuing unit ${unitCode}`);
    };
    await withCaseWorker(env, acts, async (taskQueue) => {
      const at = await startOfTest(env, calendar.data);
      const { handle } = await openCase(env, taskQueue, caseInput(uniqueCaseId('non-retryable'), at));
      await handle.executeUpdate(registerUpdate, { args: [{ actor: issuer }] });
      const err = await handle
        .executeUpdate(respondUpdate, { args: [{ actor: issuer, result: 'consistent', fields: {} }] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
      // The reply number is a local activity (patch local-steps): its failure is the Update's cause itself,
      // not wrapped in an ActivityFailure as a normal activity's is.
      const cause = (err as WorkflowUpdateFailedError).cause;
      expect(cause).toBeInstanceOf(ApplicationFailure);
      expect((cause as ApplicationFailure).type).toBe(NON_RETRYABLE.unknownUnit);
      expect(attempts).toBe(1);
      const snapshot = await handle.query(snapshotQuery);
      expect(snapshot.status).toBe('registered');
      expect(snapshot.answer).toBeUndefined();
    });
  });

  it('a transient failure is retried until it succeeds', async () => {
    const calendar = new TestCalendar();
    const acts = memoryActivities(calendar);
    const real = acts.allocateReplyNumber;
    let attempts = 0;
    acts.allocateReplyNumber = async (input) => {
      attempts++;
      if (attempts < 3) throw new Error('connection terminated unexpectedly');
      return real(input);
    };
    await withCaseWorker(env, acts, async (taskQueue) => {
      const at = await startOfTest(env, calendar.data);
      const { handle } = await openCase(env, taskQueue, caseInput(uniqueCaseId('transient'), at));
      await handle.executeUpdate(registerUpdate, { args: [{ actor: issuer }] });
      const answered = await handle.executeUpdate(respondUpdate, {
        args: [{ actor: issuer, result: 'consistent', fields: {} }],
      });
      expect(answered.status).toBe('answered');
      expect(attempts).toBe(3);
    });
  });
});

describe('error classification of the activities', () => {
  it('an invalid instant becomes InvalidActivityInput; other errors stay as they are', async () => {
    const bad = await calculation(() => {
      throw new RangeError('invalid receivedAt: x');
    }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ApplicationFailure);
    expect((bad as ApplicationFailure).type).toBe(NON_RETRYABLE.invalidInput);
    expect((bad as ApplicationFailure).nonRetryable).toBe(false); // the workflow's policy decides
    const other = await calculation(() => {
      throw new Error('database down');
    }).catch((e: unknown) => e);
    expect(other).not.toBeInstanceOf(ApplicationFailure);
  });

  it('a malformed calendar change is named as such', () => {
    expect(invalidChange({ dates: ['2026-10-01'] })).toBeUndefined();
    expect(invalidChange({ all: true })).toBeUndefined();
    expect(invalidChange({ years: [2027] })).toBeUndefined();
    expect(invalidChange({ dates: ['tomorrow'] })).toMatch(/YYYY-MM-DD/);
    expect(invalidChange({} as never)).toMatch(/neither/);
  });
});
