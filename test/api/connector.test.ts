/**
 * Automatic answers through the API, against the real demo data service (signed HTTP on loopback) and the
 * real workflow on the dev server: a 户籍 verification (HJ-001) of a sample person is answered by the system
 * acting for 淄博市公安局, with source, query time and evidence hash; one of a person not in the data lands
 * in the issuing unit's inbox with the reason on the case, and a person answers it. Each query is on the
 * audit chain; the catalog shows the connector's name and never its secret.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnectorRegistry } from '../../activities/connectors.ts';
import {
  DEMO_HUKOU_RECORDS,
  type DemoDataService,
  startDemoDataService,
} from '../../app/demo-data-service.ts';
import { auditLog } from '../../db/schema.ts';
import { canonicalJson, sha256Hex } from '../../domain/data-exchange.ts';
import { type ApiHarness, createApiHarness, startBody } from '../support/api.ts';
import { databaseTargets } from '../support/databases.ts';
import { createDevServerEnv } from '../support/temporal.ts';
import { eventually } from '../workflow/support.ts';

const SAMPLE = DEMO_HUKOU_RECORDS[1];

let env: TestWorkflowEnvironment;
let service: DemoDataService;
beforeAll(async () => {
  [env, service] = await Promise.all([createDevServerEnv(), startDemoDataService()]);
});
afterAll(async () => {
  await service?.close();
  await env?.teardown();
});

describe.each(databaseTargets())('automatic answers on $name', { timeout: 120_000 }, (target) => {
  let h: ApiHarness;
  const auth: Record<string, string> = {};
  beforeAll(async () => {
    h = await createApiHarness(env, target, { connectors: createConnectorRegistry([service.connector]) });
    for (const u of ['req-a', 'iss-a', 'admin']) auth[u] = await h.login(u);
  });
  afterAll(async () => {
    await h?.close();
  });

  const call = (who: string, method: 'GET' | 'POST', url: string, payload?: object) =>
    h.app.inject({
      method,
      url,
      headers: { authorization: auth[who] ?? '' },
      ...(payload ? { payload } : {}),
    });
  const start = async (subject: { name: string; idNumber: string }, declaredAddress: string) => {
    const res = await call(
      'req-a',
      'POST',
      '/api/v1/verifications',
      startBody({ subject: { kind: 'person', ...subject }, fields: { declaredAddress } }),
    );
    expect(res.statusCode, res.body).toBe(201);
    return res.json().id as string;
  };
  const connectorCount = async (outcome: string) =>
    (await h.metrics.connectorQueries.get()).values.find(
      (v) => v.labels.connector === 'hukou-demo' && v.labels.outcome === outcome,
    )?.value ?? 0;
  const detail = async (who: string, id: string) => {
    const res = await call(who, 'GET', `/api/v1/verifications/${id}`);
    expect(res.statusCode).toBe(200);
    return res.json();
  };

  it('a sample person: answered by 系统自动核验（淄博市公安局） within seconds, with its evidence', async () => {
    const t0 = Date.now();
    const id = await start({ name: SAMPLE.xm, idNumber: SAMPLE.sfzhm }, SAMPLE.hjdz);
    const d = await eventually(async () => {
      const v = await detail('req-a', id);
      expect(v.case.status).toBe('answered');
      return v;
    }, 30_000);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(d.answer).toMatchObject({
      result: 'consistent',
      fields: { registeredAddress: SAMPLE.hjdz, remark: SAMPLE.djjg },
      answeredBy: 'system:connector:hukou-demo',
      automatic: { connector: 'hukou-demo', source: '公安局常住人口信息（数据共享交换平台·演示）' },
    });
    expect(d.answer.automatic.evidenceHash).toMatch(/^[0-9a-f]{64}$/);
    expect(Date.parse(d.answer.automatic.queriedAt)).toBeGreaterThanOrEqual(t0 - 1000);
    const answered = d.timeline.find((e: { type: string }) => e.type === 'answered');
    expect(answered).toMatchObject({
      actorId: 'system:connector:hukou-demo',
      actorName: '系统自动核验（淄博市公安局）',
      actorUnit: 'ZB-GA',
    });
    // Audited like a read: who (the system for ZB-GA), which case, why, the outcome and the evidence hash.
    const rows = await h.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.caseId, id), eq(auditLog.action, 'connector.query')));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actorId: 'system:connector:hukou-demo',
      actorUnit: 'ZB-GA',
      outcome: 'allowed',
      purpose: '自动核验（数据共享查询）',
    });
    expect(rows[0]?.detail).toMatchObject({
      outcome: 'match',
      evidenceHash: d.answer.automatic.evidenceHash,
    });
    expect(sha256Hex(canonicalJson({}))).toHaveLength(64);
    // Operators see it in /metrics: one query, a match, and its duration.
    expect(await connectorCount('match')).toBe(1);
    const text = await h.metrics.render();
    expect(text).toContain('xiecha_connector_queries_total{connector="hukou-demo",outcome="match"} 1');
    expect(text).toMatch(/xiecha_connector_query_seconds_count\{connector="hukou-demo"\} 1\b/);
  });

  it('a person not in the data: in the inbox with the reason; a person answers it', async () => {
    const id = await start({ name: '张三', idNumber: '11010519491231002X' }, '淄博市张店区人民西路 1 号');
    const d = await eventually(async () => {
      const v = await detail('iss-a', id);
      expect(v.timeline.map((e: { type: string }) => e.type)).toContain('auto_check_fallback');
      return v;
    }, 30_000);
    expect(d.case.status).toBe('awaiting_registration');
    const fell = d.timeline.find((e: { type: string }) => e.type === 'auto_check_fallback');
    expect(fell).toMatchObject({
      actorName: '系统自动核验（淄博市公安局）',
      reason: '数据源中没有身份证号 1101**********002X 的记录',
    });
    const inbox = (await call('iss-a', 'GET', '/api/v1/verifications?box=inbox')).json();
    expect(inbox.items.map((i: { id: string }) => i.id)).toContain(id);
    expect((await call('iss-a', 'POST', `/api/v1/verifications/${id}/register`, {})).statusCode).toBe(200);
    const res = await call('iss-a', 'POST', `/api/v1/verifications/${id}/respond`, {
      result: 'not_found',
      fields: { registeredAddress: '无' },
    });
    expect(res.statusCode, res.body).toBe(200);
    const rows = await h.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.caseId, id), eq(auditLog.action, 'connector.query')));
    expect(rows.map((r) => [r.outcome, (r.detail as { outcome: string }).outcome])).toEqual([
      ['allowed', 'no_match'],
    ]);
    expect(await connectorCount('no_match')).toBe(1);
  });

  it('the catalog names the connector, never its address or secret', async () => {
    const res = await call('req-a', 'GET', '/api/v1/catalog');
    expect(res.statusCode).toBe(200);
    const item = res.json().items.find((i: { code: string }) => i.code === 'HJ-001');
    expect(item.connector).toBe('hukou-demo');
    expect(res.body).not.toContain(service.connector.appSecret as string);
    expect(res.body).not.toContain(service.url);
    const admin = await call('admin', 'GET', '/api/v1/admin/catalog');
    expect(admin.body).not.toContain(service.connector.appSecret as string);
  });
});
