import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorQueryInput, ConnectorQueryResult } from '../../workflows/activity-contract.ts';
import { registerUpdate, respondUpdate, snapshotQuery } from '../../workflows/definitions.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { createTimeSkippingEnv } from '../support/temporal.ts';
import { connectorInput, match, activitiesWith as withConnector } from './connector-support.ts';
import {
  eventRows,
  eventually,
  finalResult,
  issuer,
  openCase,
  recordHistory,
  startOfTest,
  TestCalendar,
  withCaseWorker,
} from './support.ts';

let env: TestWorkflowEnvironment;
let database: TestDatabase;
beforeAll(async () => {
  const pglite = databaseTargets()[0];
  if (!pglite) throw new Error('no PGlite target');
  [env, database] = await Promise.all([createTimeSkippingEnv(), pglite.open()]);
});
afterAll(async () => {
  await env?.teardown();
  await database?.dispose();
});

const activitiesWith = (
  calendar: TestCalendar,
  query: (input: ConnectorQueryInput) => Promise<ConnectorQueryResult>,
) => withConnector(database.db, calendar, query);

describe('The connector and a person race: exactly one answer', () => {
  /** A connector that answers only when the test lets it. */
  function heldConnector(calendar: TestCalendar) {
    let release: (r: ConnectorQueryResult) => void = () => {};
    const answer = new Promise<ConnectorQueryResult>((resolve) => {
      release = resolve;
    });
    const acts = activitiesWith(calendar, () => answer);
    return { acts, release: (r: ConnectorQueryResult) => release(r) };
  }

  const answeredEvents = async (caseId: string) =>
    (await eventRows(database.db, caseId)).filter((e) => e.type === 'answered');

  it('a person who answers first wins; the connector’s later match changes nothing', async () => {
    const calendar = new TestCalendar();
    const held = heldConnector(calendar);
    await withCaseWorker(env, held.acts, async (taskQueue) => {
      const start = await startOfTest(env, calendar.data, '10:00');
      const input = connectorInput('person-first', start);
      const { handle } = await openCase(env, taskQueue, input);
      await eventually(async () => expect(held.acts.calls).toHaveLength(1));
      await handle.executeUpdate(registerUpdate, { args: [{ actor: issuer }] });
      await handle.executeUpdate(respondUpdate, {
        args: [{ actor: issuer, result: 'inconsistent', fields: { registeredAddress: '别处' } }],
      });
      held.release(match());
      const done = await finalResult(env, handle);
      expect(done.answer).toMatchObject({ answeredBy: issuer.staffId, result: 'inconsistent' });
      expect(done.autoCheck).toBeUndefined();
      const answers = await answeredEvents(input.caseId);
      expect(answers.map((e) => e.actorId)).toEqual([issuer.staffId]);
      await recordHistory(handle, 'connector-person-first');
    });
  });

  it('the connector answers first; a person’s later answer is refused and not recorded', {
    timeout: 180_000,
  }, async () => {
    const calendar = new TestCalendar();
    const held = heldConnector(calendar);
    await withCaseWorker(env, held.acts, async (taskQueue) => {
      const start = await startOfTest(env, calendar.data, '10:00');
      const input = connectorInput('system-first', start);
      const { handle } = await openCase(env, taskQueue, input);
      await handle.executeUpdate(registerUpdate, { args: [{ actor: issuer }] });
      held.release(match());
      await eventually(async () => expect((await handle.query(snapshotQuery)).status).toBe('answered'));
      // Refused by the validator, or the case has already finished: either way nothing is recorded.
      const late = await handle
        .executeUpdate(respondUpdate, {
          args: [{ actor: issuer, result: 'consistent', fields: { registeredAddress: '人民西路 1 号' } }],
        })
        .then(
          () => 'accepted',
          () => 'refused',
        );
      expect(late).toBe('refused');
      const done = await finalResult(env, handle);
      expect(done.answer?.answeredBy).toBe('system:connector:hukou-test');
      // Registered by the person before: the system's answer keeps that registration.
      expect(done.routing.registeredBy).toBe(issuer.staffId);
      const answers = await answeredEvents(input.caseId);
      expect(answers.map((e) => e.actorId)).toEqual(['system:connector:hukou-test']);
      await recordHistory(handle, 'connector-system-first');
    });
  });

  it('at the same moment: one of them answers, the other is refused or dropped, never both', {
    timeout: 240_000,
  }, async () => {
    for (let round = 0; round < 2; round++) {
      const calendar = new TestCalendar();
      const held = heldConnector(calendar);
      await withCaseWorker(env, held.acts, async (taskQueue) => {
        const start = await startOfTest(env, calendar.data, '10:00');
        const input = connectorInput(`same-moment-${round}`, start);
        const { handle } = await openCase(env, taskQueue, input);
        await handle.executeUpdate(registerUpdate, { args: [{ actor: issuer }] });
        await eventually(async () => expect(held.acts.calls).toHaveLength(1));
        const person = handle.executeUpdate(respondUpdate, {
          args: [{ actor: issuer, result: 'consistent', fields: { registeredAddress: '人民西路 1 号' } }],
        });
        held.release(match());
        const [byPerson] = await Promise.allSettled([person]);
        const done = await finalResult(env, handle);
        const answers = await answeredEvents(input.caseId);
        expect(answers).toHaveLength(1);
        expect(answers[0]?.actorId).toBe(done.answer?.answeredBy);
        if (byPerson.status === 'fulfilled') expect(done.answer?.answeredBy).toBe(issuer.staffId);
        else expect(done.answer?.answeredBy).toBe('system:connector:hukou-test');
      });
    }
  });
});
