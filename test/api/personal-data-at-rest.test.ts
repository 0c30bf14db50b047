/**
 * Personal data at rest and inside a unit: `cases.content` is sealed (AES-256-GCM, payload key), so the
 * raw row holds neither the subject's name nor the ID number; only the person handling the case sees the
 * full ID number, everyone else in the unit a masked one, and unmasking it is an audited action with a
 * purpose. Rows written before encryption still read. Real dev server and database.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resealLegacyContent } from '../../api/services/content-reseal.ts';
import { auditLog, cases } from '../../db/schema.ts';
import { isSealed } from '../../domain/content-cipher.ts';
import { type ApiHarness, createApiHarness, startBody, VALID_ID } from '../support/api.ts';
import { databaseTargets } from '../support/databases.ts';
import { createDevServerEnv, TEST_CONTENT_CIPHER } from '../support/temporal.ts';

const NAME = '张三';
const MASKED_ID = `${VALID_ID.slice(0, 4)}**********${VALID_ID.slice(-4)}`;

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

describe.each(databaseTargets())('personal data at rest on $name', (target) => {
  let h: ApiHarness;
  const auth: Record<string, string> = {};
  let caseId: string;
  beforeAll(async () => {
    h = await createApiHarness(env, target);
    for (const u of ['req-a', 'req-a2', 'iss-a', 'iss-a2', 'req-b']) auth[u] = await h.login(u);
    const started = await h.app.inject({
      method: 'POST',
      url: '/api/v1/verifications',
      headers: { authorization: auth['req-a'] ?? '', 'idempotency-key': `${target.name}-pii-0001` },
      payload: startBody(),
    });
    expect(started.statusCode, started.body).toBe(201);
    caseId = started.json().id;
    const registered = await h.app.inject({
      method: 'POST',
      url: `/api/v1/verifications/${caseId}/register`,
      headers: { authorization: auth['iss-a'] ?? '' },
      payload: {},
    });
    expect(registered.statusCode, registered.body).toBe(200);
  });
  afterAll(async () => {
    await h?.close();
  });

  const read = (who: string) =>
    h.app.inject({ url: `/api/v1/verifications/${caseId}`, headers: { authorization: auth[who] ?? '' } });

  it('stores neither the name nor the ID number in the cases row', async () => {
    const rows = await h.database.db.select().from(cases).where(eq(cases.id, caseId));
    expect(rows).toHaveLength(1);
    const raw = JSON.stringify(rows[0]);
    expect(raw).not.toContain(NAME);
    expect(raw).not.toContain(VALID_ID);
    expect(raw).not.toContain(VALID_ID.slice(6, 14)); // not even the birth date
    expect(isSealed(rows[0]?.content)).toBe(true);
    expect(rows[0]?.content).toMatchObject({ kid: TEST_CONTENT_CIPHER.keyId });
  });

  it('shows the full ID number to the person handling the case and a masked one to colleagues', async () => {
    for (const who of ['iss-a', 'req-a']) {
      const res = await read(who);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().content.subject, who).toEqual({ kind: 'person', name: NAME, idNumber: VALID_ID });
    }
    for (const who of ['iss-a2', 'req-a2']) {
      const res = await read(who);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().content.subject.idNumber, who).toBe(MASKED_ID);
      // The name too, as the lists and the case's header show it (one rule on the case page).
      expect(res.json().content.subject.name, who).toBe('张*');
      expect(res.json().content.idNumberMasked).toBe(true);
      expect(res.body).not.toContain(VALID_ID);
    }
    const reads = await h.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'case.read'), eq(auditLog.caseId, caseId)));
    expect(reads.map((r) => `${r.actorId}:${(r.detail as { idNumber?: string }).idNumber}`)).toEqual([
      'stf-iss-a:full',
      'stf-req-a:full',
      'stf-iss-a2:masked',
      'stf-req-a2:masked',
    ]);
  });

  it('unmasks on request, with a purpose, and audits every unmasking', async () => {
    const reveal = (who: string, payload: Record<string, string>) =>
      h.app.inject({
        method: 'POST',
        url: `/api/v1/verifications/${caseId}/reveal`,
        headers: { authorization: auth[who] ?? '' },
        payload,
      });
    const noPurpose = await reveal('iss-a2', { field: 'idNumber' });
    expect(noPurpose.statusCode).toBeGreaterThanOrEqual(400);
    expect(noPurpose.statusCode).toBeLessThan(500);
    const ok = await reveal('iss-a2', { field: 'idNumber', purpose: '代为办理（A 岗休假）' });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toEqual({ idNumber: VALID_ID });
    // Another unit: not found, and audited as refused.
    expect((await reveal('req-b', { field: 'idNumber', purpose: '看看' })).statusCode).toBe(404);
    const rows = await h.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'case.reveal'), eq(auditLog.caseId, caseId)))
      .orderBy(auditLog.id);
    expect(rows.map((r) => `${r.actorId}:${r.outcome}:${r.purpose}`)).toEqual([
      'stf-iss-a2:allowed:代为办理（A 岗休假）',
      'stf-req-b:denied:null',
    ]);
  });

  it('still reads a row written before encryption, seals it at start-up, and search by ID number keeps working', async () => {
    await h.database.db.execute(
      sql`update cases set content = ${JSON.stringify({
        subject: { kind: 'person', name: NAME, idNumber: VALID_ID },
        fields: { declaredAddress: '旧数据' },
      })}::jsonb where id = ${caseId}`,
    );
    const legacy = await read('iss-a');
    expect(legacy.statusCode, legacy.body).toBe(200);
    expect(legacy.json().content.fields).toEqual({ declaredAddress: '旧数据' });
    expect((await read('iss-a2')).json().content.subject.idNumber).toBe(MASKED_ID);

    // Start-up seals the plain rows that are left; the content reads the same.
    expect(await resealLegacyContent(h.database.db, TEST_CONTENT_CIPHER)).toBeGreaterThanOrEqual(1);
    const [row] = await h.database.db.select().from(cases).where(eq(cases.id, caseId));
    expect(isSealed(row?.content)).toBe(true);
    expect(JSON.stringify(row)).not.toContain(NAME);
    expect((await read('iss-a')).json().content.fields).toEqual({ declaredAddress: '旧数据' });
    expect(await resealLegacyContent(h.database.db, TEST_CONTENT_CIPHER)).toBe(0);

    const found = await h.app.inject({
      method: 'POST',
      url: '/api/v1/verifications/search-by-subject',
      headers: { authorization: auth['req-a'] ?? '' },
      payload: { idNumber: VALID_ID, purpose: '核对申请人' },
    });
    expect(found.statusCode, found.body).toBe(200);
    expect(found.json().items.map((i: { id: string }) => i.id)).toContain(caseId);
  });
});
