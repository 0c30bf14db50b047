/**
 * The read model follows the case's current workflow run (activities/case-activities.ts `projectCase`):
 * sequence numbers count within a run, and a Temporal reset starts a new run that reuses them. A
 * projection from another run with a later event replaces the row even with a lower seq; within a run an
 * older seq is still ignored, and a late write of the replaced run changes nothing.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { asc, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createCalendarSource } from '../../activities/calendar-source.ts';
import { createCaseActivities } from '../../activities/case-activities.ts';
import { caseEvents, cases, escalations } from '../../db/schema.ts';
import type { ProjectCaseInput } from '../../workflows/activity-contract.ts';
import type { CaseSnapshot, CaseStatus } from '../../workflows/definitions.ts';
import { databaseTargets } from '../support/databases.ts';
import { silentLog, TEST_CONTENT_CIPHER, TEST_SUBJECT_KEY } from '../support/temporal.ts';
import { caseInput, requester } from '../workflow/support.ts';

const CASE_ID = 'case-projection-run';
const T0 = Date.parse('2026-12-01T02:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

function snapshot(seq: number, status: CaseStatus, escalated = false): CaseSnapshot {
  return {
    caseId: CASE_ID,
    docNumber: '淄人社协〔2026〕901号',
    status,
    tier: '30m',
    requestingUnit: 'ZB-RS',
    catalog: { code: 'HJ-001', version: 1, name: '户籍信息证明' },
    purpose: '社会保险参保登记',
    createdBy: requester.staffId,
    createdAt: at(0),
    deadlines: [],
    waitIntervals: [],
    routing: {
      routingNo: 1,
      issuingUnit: 'ZB-GA',
      receivedAt: at(0),
      effectiveReceivedAt: at(0),
      dueAt: at(30),
      flags: [],
      reminderAt: [],
      remindersSent: 0,
      arrivedAt: at(0),
    },
    returns: [],
    reclassifications: [],
    escalations: escalated
      ? [
          {
            level: 1,
            routingNo: 1,
            issuingUnit: 'ZB-GA',
            openedAt: at(31),
            missedDueAt: at(30),
            status: 'open',
          },
        ]
      : [],
    seq,
  };
}

describe.each(databaseTargets())('projection keyed by workflow run on $name', (target) => {
  it('a newer run with a lower seq replaces the row; an older seq of the same run is still ignored', async () => {
    const database = await target.open();
    const { db } = database;
    try {
      const acts = createCaseActivities({
        db,
        calendar: createCalendarSource(db),
        subjectKey: TEST_SUBJECT_KEY,
        contentCipher: TEST_CONTENT_CIPHER,
        log: silentLog,
      });
      const inRun = (runId: string, input: ProjectCaseInput) =>
        new MockActivityEnvironment({
          workflowExecution: { workflowId: CASE_ID, runId },
        }).run(() => acts.projectCase(input));
      const row = async () => (await db.select().from(cases).where(eq(cases.id, CASE_ID)))[0];
      const events = () =>
        db
          .select({ seq: caseEvents.seq, type: caseEvents.type, runId: caseEvents.runId })
          .from(caseEvents)
          .where(eq(caseEvents.caseId, CASE_ID))
          .orderBy(asc(caseEvents.seq));

      // Run A: created, registered, then overdue and escalated.
      await inRun('run-a', {
        snapshot: snapshot(1, 'awaiting_registration'),
        event: { seq: 1, type: 'created', at: at(0) },
        input: caseInput(CASE_ID, new Date(T0)),
      });
      await inRun('run-a', {
        snapshot: snapshot(2, 'registered'),
        event: { seq: 2, type: 'registered', at: at(5) },
      });
      await inRun('run-a', {
        snapshot: snapshot(3, 'registered', true),
        event: { seq: 3, type: 'escalated', at: at(31) },
      });
      expect(await row()).toMatchObject({ lastSeq: 3, runId: 'run-a', escalationLevel: 1 });

      // An older seq of the same run (an activity retried late) changes nothing.
      await inRun('run-a', {
        snapshot: snapshot(2, 'awaiting_registration'),
        event: { seq: 2, type: 'x', at: at(5) },
      });
      expect(await row()).toMatchObject({ lastSeq: 3, status: 'registered', runId: 'run-a' });

      // An operator resets the case to after its creation: run B reuses seq 2, later in time.
      await inRun('run-b', {
        snapshot: snapshot(2, 'withdrawn'),
        event: { seq: 2, type: 'withdrawn', at: at(40) },
      });
      expect(await row()).toMatchObject({
        lastSeq: 2,
        status: 'withdrawn',
        runId: 'run-b',
        escalationLevel: 0,
      });
      expect(await events()).toEqual([
        { seq: 1, type: 'created', runId: 'run-a' },
        { seq: 2, type: 'withdrawn', runId: 'run-b' },
        { seq: 3, type: 'escalated', runId: 'run-a' },
      ]);
      // The escalation run B does not have is gone from the read model.
      expect(await db.select().from(escalations).where(eq(escalations.caseId, CASE_ID))).toEqual([]);

      // A late write of the replaced run A (its event is older than run B's) changes nothing…
      await inRun('run-a', {
        snapshot: snapshot(4, 'answered'),
        event: { seq: 4, type: 'answered', at: at(35) },
      });
      expect(await row()).toMatchObject({ lastSeq: 2, status: 'withdrawn', runId: 'run-b' });
      // …and run B goes on with its own sequence.
      await inRun('run-b', {
        snapshot: snapshot(3, 'withdrawn', true),
        event: { seq: 3, type: 'escalated', at: at(41) },
      });
      expect(await row()).toMatchObject({ lastSeq: 3, runId: 'run-b', escalationLevel: 1 });
      expect((await events()).find((e) => e.seq === 3)).toEqual({
        seq: 3,
        type: 'escalated',
        runId: 'run-b',
      });
    } finally {
      await database.dispose();
    }
  });

  it('a row written before runs were recorded follows a later run, and its own seqs as before', async () => {
    const database = await target.open();
    const { db } = database;
    try {
      const acts = createCaseActivities({
        db,
        calendar: createCalendarSource(db),
        subjectKey: TEST_SUBJECT_KEY,
        contentCipher: TEST_CONTENT_CIPHER,
        log: silentLog,
      });
      // Outside an activity (no run known): sequence numbers only.
      await acts.projectCase({
        snapshot: snapshot(1, 'awaiting_registration'),
        event: { seq: 1, type: 'created', at: at(0) },
        input: caseInput(CASE_ID, new Date(T0)),
      });
      await acts.projectCase({
        snapshot: snapshot(3, 'registered'),
        event: { seq: 3, type: 'registered', at: at(5) },
      });
      // A legacy row: no run, no event time (updated_at stands in).
      await db.update(cases).set({ runId: null, lastEventAt: null, updatedAt: new Date(at(6)) });
      const env = new MockActivityEnvironment({ workflowExecution: { workflowId: CASE_ID, runId: 'run-c' } });
      // The same (unrecorded) run going on: a higher seq.
      await env.run(() =>
        acts.projectCase({
          snapshot: snapshot(4, 'registered'),
          event: { seq: 4, type: 'urged', at: at(6) },
        }),
      );
      expect((await db.select().from(cases))[0]).toMatchObject({ lastSeq: 4, runId: 'run-c' });
      await db.update(cases).set({ runId: null, lastEventAt: null, updatedAt: new Date(at(7)) });
      // A reset's run: a lower seq, but later than the row's last write.
      await new MockActivityEnvironment({ workflowExecution: { workflowId: CASE_ID, runId: 'run-d' } }).run(
        () =>
          acts.projectCase({
            snapshot: snapshot(2, 'withdrawn'),
            event: { seq: 2, type: 'withdrawn', at: at(20) },
          }),
      );
      expect((await db.select().from(cases))[0]).toMatchObject({
        lastSeq: 2,
        status: 'withdrawn',
        runId: 'run-d',
      });
    } finally {
      await database.dispose();
    }
  });
});
