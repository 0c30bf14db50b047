/**
 * Rotating the payload key under open cases: a case started while key 1 was current is registered and
 * answered after the rotation to [key 2, key 1], its history (payloads under both keys) replays with the
 * ring, its sealed content still opens, and it is still found by ID number (the subject key did not move).
 * Without key 1 in the ring, the same history no longer decodes: the ring is what keeps the case alive.
 */

import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataConverter, workflowBundle } from '../../app/temporal.ts';
import { cases } from '../../db/schema.ts';
import { keyIdOf } from '../../domain/content-cipher.ts';
import { createApiHarness, startBody, VALID_ID } from '../support/api.ts';
import { databaseTargets } from '../support/databases.ts';
import { createDevServerEnv, silentLog } from '../support/temporal.ts';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const KEY_1 = Buffer.alloc(32, 11);
const KEY_2 = Buffer.alloc(32, 22);

describe.each(databaseTargets())('payload key rotation on $name', (target) => {
  it('a case started under key 1 completes, replays and is found after rotation to key 2', async () => {
    const database = await target.open();
    try {
      // Generation 1: key 1 current.
      const before = await createApiHarness(env, target, { payloadKeys: [KEY_1], database });
      const taskQueue = before.worker.options.taskQueue;
      const reqA = await before.login('req-a');
      const started = await before.app.inject({
        method: 'POST',
        url: '/api/v1/verifications',
        headers: { authorization: reqA, 'idempotency-key': `${target.name}-rotation-0001` },
        payload: startBody(),
      });
      expect(started.statusCode, started.body).toBe(201);
      const id: string = started.json().id;
      const [row] = await database.db.select({ content: cases.content }).from(cases).where(eq(cases.id, id));
      expect((row?.content as { kid?: string } | undefined)?.kid).toBe(keyIdOf(KEY_1));
      await before.close();

      // Generation 2: key 2 current, key 1 kept for decryption; same database, same task queue.
      const after = await createApiHarness(env, target, { payloadKeys: [KEY_2, KEY_1], database, taskQueue });
      try {
        const issA = await after.login('iss-a');
        const reqA2 = await after.login('req-a');
        const act = (name: string, payload: object) =>
          after.app.inject({
            method: 'POST',
            url: `/api/v1/verifications/${id}/${name}`,
            headers: { authorization: issA, 'idempotency-key': `${target.name}-rotation-${name}` },
            payload,
          });
        expect((await act('register', {})).statusCode).toBe(200);
        const answered = await act('respond', {
          result: 'consistent',
          fields: { registeredAddress: '淄博市张店区人民西路 1 号' },
        });
        expect(answered.statusCode, answered.body).toBe(200);
        expect(answered.json().status).toBe('answered');

        const detail = await after.app.inject({
          url: `/api/v1/verifications/${id}`,
          headers: { authorization: reqA2 },
        });
        expect(detail.statusCode, detail.body).toBe(200);
        expect(JSON.stringify(detail.json())).toContain('人民西路');
        const found = await after.app.inject({
          method: 'POST',
          url: '/api/v1/verifications/search-by-subject',
          headers: { authorization: reqA2 },
          payload: { idNumber: VALID_ID, purpose: '核对申请人身份' },
        });
        expect(found.statusCode, found.body).toBe(200);
        expect(JSON.stringify(found.json())).toContain(id);

        const handle = env.client.workflow.getHandle(id);
        const history = await handle.fetchHistory();
        const keyIds = new Set<string>();
        JSON.stringify(history, (k, v) => {
          if (k === 'encryption-key-id' && v)
            keyIds.add(
              (typeof v === 'string' ? Buffer.from(v, 'base64') : Buffer.from(v.data ?? v)).toString(),
            );
          return v;
        });
        expect(keyIds).toEqual(new Set([keyIdOf(KEY_1), keyIdOf(KEY_2)]));
        const bundle = await workflowBundle(silentLog);
        await Worker.runReplayHistory(
          { workflowBundle: bundle, dataConverter: dataConverter([KEY_2, KEY_1]) },
          history,
          id,
        );
        await expect(
          Worker.runReplayHistory(
            { workflowBundle: bundle, dataConverter: dataConverter([KEY_2]) },
            history,
            id,
          ),
        ).rejects.toThrow();
      } finally {
        await after.close();
      }
    } finally {
      await database.dispose();
    }
  }, 120_000);
});
