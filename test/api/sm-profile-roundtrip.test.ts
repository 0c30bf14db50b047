/**
 * A switch to CRYPTO_PROFILE=sm under open cases, on the real workflow: a case started under the default
 * profile (AES-256-GCM, HMAC-SHA-256) is registered and answered after the switch; a second case runs wholly
 * under SM4 / HMAC-SM3. Both are read in full, both are found by ID number, both histories replay under
 * either profile (each payload names its cipher), and the audit chain — HMAC-SHA-256 rows, then HMAC-SM3
 * rows — verifies end to end. Switching back reads the SM4 content too.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../api/services/audit.ts';
import { dataConverter, workflowBundle } from '../../app/temporal.ts';
import { cases } from '../../db/schema.ts';
import { createContentCipher } from '../../domain/content-cipher.ts';
import { SM4_CIPHER_ID } from '../../domain/crypto-profile.ts';
import { subjectIdHash } from '../../domain/personal-data.ts';
import { type ApiHarness, createApiHarness, startBody, VALID_ID } from '../support/api.ts';
import { databaseTargets } from '../support/databases.ts';
import {
  createDevServerEnv,
  silentLog,
  TEST_AUDIT_KEY,
  TEST_PAYLOAD_KEY,
  TEST_SUBJECT_KEY,
} from '../support/temporal.ts';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

/** The cipher of every encrypted payload of a history: `aes-256-gcm` when the payload names none. */
function payloadCiphers(history: unknown): Set<string> {
  const seen = new Set<string>();
  JSON.stringify(history, (k, v) => {
    if (k === 'metadata' && v && typeof v === 'object' && 'encryption-key-id' in v) {
      const c = (v as Record<string, unknown>)['encryption-cipher'];
      seen.add(
        c
          ? (typeof c === 'string'
              ? Buffer.from(c, 'base64')
              : Buffer.from((c as { data?: number[] }).data ?? (c as Uint8Array))
            ).toString()
          : 'aes-256-gcm',
      );
    }
    return v;
  });
  return seen;
}

describe.each(databaseTargets())('CRYPTO_PROFILE=sm round trip on $name', (target) => {
  it('cases started before and after the switch complete, read, are found, replay, and the audit chain verifies', async () => {
    const database = await target.open();
    let after: ApiHarness | undefined;
    try {
      // Generation 1: the default profile.
      const before = await createApiHarness(env, target, { database });
      const taskQueue = before.worker.options.taskQueue;
      const started = await before.app.inject({
        method: 'POST',
        url: '/api/v1/verifications',
        headers: { authorization: await before.login('req-a'), 'idempotency-key': `${target.name}-sm-0001` },
        payload: startBody(),
      });
      expect(started.statusCode, started.body).toBe(201);
      const oldId: string = started.json().id;
      await before.close();

      // Generation 2: CRYPTO_PROFILE=sm, same keys, database and task queue.
      after = await createApiHarness(env, target, { database, taskQueue, cryptoProfile: 'sm' });
      const h = after;
      const reqA = await h.login('req-a');
      const issA = await h.login('iss-a');
      const act = (id: string, name: string, payload: object) =>
        h.app.inject({
          method: 'POST',
          url: `/api/v1/verifications/${id}/${name}`,
          headers: { authorization: issA, 'idempotency-key': `${target.name}-sm-${id}-${name}` },
          payload,
        });
      const newStart = await h.app.inject({
        method: 'POST',
        url: '/api/v1/verifications',
        headers: { authorization: reqA, 'idempotency-key': `${target.name}-sm-0002` },
        payload: startBody({ fields: { declaredAddress: '淄博市淄川区般阳路 2 号' } }),
      });
      expect(newStart.statusCode, newStart.body).toBe(201);
      const newId: string = newStart.json().id;
      for (const id of [oldId, newId]) {
        expect((await act(id, 'register', {})).statusCode).toBe(200);
        const answered = await act(id, 'respond', {
          result: 'consistent',
          fields: { registeredAddress: '淄博市张店区人民西路 1 号' },
        });
        expect(answered.statusCode, answered.body).toBe(200);
        expect(answered.json().status).toBe('answered');
      }

      // Both read in full; the old row keeps its AES-GCM envelope, the new one is SM4.
      for (const [id, address] of [
        [oldId, '人民西路'],
        [newId, '般阳路'],
      ] as const) {
        const detail = await h.app.inject({
          url: `/api/v1/verifications/${id}`,
          headers: { authorization: reqA },
        });
        expect(detail.statusCode, detail.body).toBe(200);
        expect(detail.json().content.subject.idNumber).toBe(VALID_ID);
        expect(JSON.stringify(detail.json())).toContain(address);
      }
      const rows = new Map(
        (
          await database.db
            .select({ id: cases.id, content: cases.content, hash: cases.subjectIdHash })
            .from(cases)
            .where(eq(cases.requestingUnit, 'ZB-RS'))
        ).map((r) => [r.id, r]),
      );
      expect(rows.get(oldId)?.content).not.toHaveProperty('alg');
      expect(rows.get(newId)?.content).toMatchObject({ alg: SM4_CIPHER_ID });
      expect(JSON.stringify(rows.get(newId))).not.toContain('般阳路');
      expect(rows.get(oldId)?.hash).toBe(subjectIdHash(TEST_SUBJECT_KEY, VALID_ID));
      expect(rows.get(newId)?.hash).toBe(subjectIdHash(TEST_SUBJECT_KEY, VALID_ID, 'sm'));
      // Switching back to the default profile still opens the SM4 content.
      expect(createContentCipher(TEST_PAYLOAD_KEY).open(newId, rows.get(newId)?.content)).toMatchObject({
        fields: { declaredAddress: '淄博市淄川区般阳路 2 号' },
      });

      // Found by ID number under either hash.
      const found = await h.app.inject({
        method: 'POST',
        url: '/api/v1/verifications/search-by-subject',
        headers: { authorization: reqA },
        payload: { idNumber: VALID_ID, purpose: '核对申请人身份' },
      });
      expect(found.statusCode, found.body).toBe(200);
      expect(found.json().items.map((i: { id: string }) => i.id)).toEqual(
        expect.arrayContaining([oldId, newId]),
      );

      // Histories: the old case carries both ciphers, the new one SM4 only; each replays under either profile.
      const bundle = await workflowBundle(silentLog);
      const oldHistory = await env.client.workflow.getHandle(oldId).fetchHistory();
      const newHistory = await env.client.workflow.getHandle(newId).fetchHistory();
      expect(payloadCiphers(oldHistory)).toEqual(new Set(['aes-256-gcm', SM4_CIPHER_ID]));
      expect(payloadCiphers(newHistory)).toEqual(new Set([SM4_CIPHER_ID]));
      for (const profile of ['default', 'sm'] as const)
        for (const [id, history] of [
          [oldId, oldHistory],
          [newId, newHistory],
        ] as const)
          await Worker.runReplayHistory(
            { workflowBundle: bundle, dataConverter: dataConverter(TEST_PAYLOAD_KEY, profile) },
            history,
            id,
          );

      // The audit chain: HMAC-SHA-256 rows of generation 1, HMAC-SM3 rows of generation 2, one chain.
      const report = await verifyAuditChain(database.db, { key: TEST_AUDIT_KEY });
      expect(report.ok, report.reason).toBe(true);
      expect(report.byVersion?.[2]).toBeGreaterThan(0);
      expect(report.byVersion?.[3]).toBeGreaterThan(0);
    } finally {
      await after?.close();
      await database.dispose();
    }
  }, 180_000);
});
