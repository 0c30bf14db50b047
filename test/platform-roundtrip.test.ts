/**
 * The platform end to end, without mocks: the real Temporal dev server, the real case workflow bundle,
 * the real activities writing to the real database (PGlite, and PostgreSQL when TEST_DATABASE_URL is set).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCalendarSource } from '../activities/calendar-source.ts';
import { createCaseActivities } from '../activities/case-activities.ts';
import { caseEvents, cases } from '../db/schema.ts';
import { demoStaffId } from '../db/seed.ts';
import type { Actor, CaseInput } from '../workflows/definitions.ts';
import { openedUpdate, registerUpdate, respondUpdate } from '../workflows/definitions.ts';
import { verificationCase } from '../workflows/verification-case.ts';
import { databaseTargets, type TestDatabase } from './support/databases.ts';
import {
  caseWorker,
  createDevServerEnv,
  silentLog,
  TEST_CONTENT_CIPHER,
  TEST_SUBJECT_KEY,
  uniqueTaskQueue,
} from './support/temporal.ts';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const requester: Actor = { staffId: demoStaffId('req-a'), name: '王芳', unitCode: 'ZB-RS', role: 'agent' };
const issuer: Actor = { staffId: demoStaffId('iss-a'), name: '郑伟', unitCode: 'ZB-GA', role: 'agent' };

describe.each(databaseTargets())('round trip through the dev server on $name', (target) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await target.open();
  });
  afterAll(async () => {
    await database?.dispose();
  });

  it('starts a case, registers and answers it, and the read model follows every step', async () => {
    const taskQueue = uniqueTaskQueue('roundtrip');
    const activities = createCaseActivities({
      db: database.db,
      calendar: createCalendarSource(database.db),
      subjectKey: TEST_SUBJECT_KEY,
      contentCipher: TEST_CONTENT_CIPHER,
      log: silentLog,
    });
    const worker = await caseWorker(env, activities, taskQueue);
    const caseId = `rt-${target.name}-${Date.now()}`;
    const input: CaseInput = {
      caseId,
      requestingUnit: 'ZB-RS',
      issuingUnit: 'ZB-GA',
      catalog: { code: 'HJ-001', version: 1, name: '户籍信息证明' },
      subject: { kind: 'person', name: '张三', idNumber: '11010519491231002X' },
      fields: { declaredAddress: '淄博市张店区人民西路 1 号' },
      purpose: '社会保险参保登记',
      tier: '30m',
      createdBy: requester,
      requestedAt: new Date().toISOString(),
    };

    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(verificationCase, {
        taskQueue,
        workflowId: caseId,
        args: [input],
      });
      const opened = await handle.executeUpdate(openedUpdate);
      expect(opened.docNumber).toMatch(/^淄人社协〔\d{4}〕\d+号$/);
      expect(opened.status).toBe('awaiting_registration');

      const [row] = await database.db.select().from(cases).where(eq(cases.id, caseId));
      expect(row?.docNumber).toBe(opened.docNumber);
      expect(row?.status).toBe('awaiting_registration');
      expect(row?.subjectMasked).toBe('张*（1101**********002X）');
      expect(row?.dueAt.toISOString()).toBe(opened.routing.dueAt);

      const registered = await handle.executeUpdate(registerUpdate, { args: [{ actor: issuer }] });
      expect(registered.assigneeId).toBe(issuer.staffId);
      // The projection is written before the Update returns: no waiting.
      const [afterRegister] = await database.db.select().from(cases).where(eq(cases.id, caseId));
      expect(afterRegister?.status).toBe('registered');

      const answered = await handle.executeUpdate(respondUpdate, {
        args: [
          { actor: issuer, result: 'consistent', fields: { registeredAddress: '淄博市张店区人民西路 1 号' } },
        ],
      });
      expect(answered.status).toBe('answered');
      const result = await handle.result();
      expect(result.status).toBe('answered');
    });

    const [final] = await database.db.select().from(cases).where(eq(cases.id, caseId));
    expect(final?.status).toBe('answered');
    expect(final?.result).toBe('consistent');
    const events = await database.db
      .select()
      .from(caseEvents)
      .where(eq(caseEvents.caseId, caseId))
      .orderBy(caseEvents.seq);
    expect(events.map((e) => e.type)).toEqual(['created', 'registered', 'answered']);
    expect(events[1]?.actorId).toBe(issuer.staffId);
  });
});
