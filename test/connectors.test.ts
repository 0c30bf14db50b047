/**
 * The connectors on their own: the data-sharing exchange's signature both ways against the real demo data
 * service (good requests answered; a bad signature, a tampered body, a replayed nonce and a skewed clock
 * refused), the HTTP connector's outcomes (match, no match, other name, 5xx, timeout, refusal) against local
 * servers, the connector activity's audit rows, and the SQL connector on PGlite and PostgreSQL (a view, a
 * READ ONLY transaction with a statement timeout).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnectorActivities } from '../activities/connector-activities.ts';
import {
  createConnectorRegistry,
  drizzleReadOnly,
  type SqlConnectorConfig,
  sqlConnector,
} from '../activities/connectors.ts';
import {
  DEMO_HUKOU_PATH,
  DEMO_HUKOU_RECORDS,
  type DemoDataService,
  demoHukouConnector,
  startDemoDataService,
} from '../app/demo-data-service.ts';
import {
  canonicalJson,
  NonceCache,
  sha256Hex,
  signRequest,
  verifySignedRequest,
} from '../domain/data-exchange.ts';
import { databaseTargets } from './support/databases.ts';
import { silentLog } from './support/temporal.ts';

const SAMPLE = DEMO_HUKOU_RECORDS[0];
const query = (idNumber: string, name: string, declaredAddress: string = SAMPLE.hjdz) => ({
  caseId: 'case-x',
  subject: { kind: 'person' as const, name, idNumber },
  fields: { declaredAddress },
});

/** Where a promise failed: the ApplicationFailure's type, message and retryability. */
async function failureOf(p: Promise<unknown>) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  const f = err as ApplicationFailure;
  return { type: f.type, message: f.message, nonRetryable: f.nonRetryable };
}

describe('the exchange signature, both ways', () => {
  let service: DemoDataService;
  let clock = Date.now();
  beforeAll(async () => {
    service = await startDemoDataService({ appKey: 'app-1', appSecret: 'secret-1', now: () => clock });
  });
  afterAll(() => service.close());

  const send = (headers: Record<string, string>, body: string) =>
    fetch(service.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const signed = (body: string, over: Partial<Parameters<typeof signRequest>[0]> = {}) =>
    signRequest({
      appKey: 'app-1',
      appSecret: 'secret-1',
      method: 'POST',
      path: DEMO_HUKOU_PATH,
      body,
      ...over,
    });

  it('verifies what it signed, and refuses any change to method, path, body or secret', () => {
    const body = '{"sfzhm":"370303198503120043"}';
    const headers = signRequest({ appKey: 'k', appSecret: 's', method: 'POST', path: '/p', body, now: 1000 });
    const check = (over: Partial<Parameters<typeof verifySignedRequest>[0]>) =>
      verifySignedRequest({
        method: 'POST',
        path: '/p',
        headers,
        body,
        secretOf: (k) => (k === 'k' ? 's' : undefined),
        nonces: new NonceCache(),
        now: 1000,
        ...over,
      });
    expect(check({})).toEqual({ ok: true, appKey: 'k' });
    expect(check({ method: 'GET' })).toEqual({ ok: false, refusal: 'bad_signature' });
    expect(check({ path: '/q' })).toEqual({ ok: false, refusal: 'bad_signature' });
    expect(check({ body: `${body} ` })).toEqual({ ok: false, refusal: 'bad_body_hash' });
    expect(check({ secretOf: () => 'other' })).toEqual({ ok: false, refusal: 'bad_signature' });
    expect(check({ secretOf: () => undefined })).toEqual({ ok: false, refusal: 'unknown_app' });
    expect(check({ now: 1000 + 5 * 60_000 + 1 })).toEqual({ ok: false, refusal: 'clock_skew' });
    expect(check({ now: 1000 - 5 * 60_000 - 1 })).toEqual({ ok: false, refusal: 'clock_skew' });
    expect(check({ now: 1000 + 5 * 60_000 })).toEqual({ ok: true, appKey: 'k' });
  });

  it('the demo service answers a signed request with the sample record', async () => {
    const body = JSON.stringify({ sfzhm: SAMPLE.sfzhm, xm: SAMPLE.xm });
    const res = await send(signed(body), body);
    expect(res.status).toBe(200);
    const json = (await res.json()) as { code: number; data: { records: unknown[] } };
    expect(json.code).toBe(0);
    expect(json.data.records).toEqual([SAMPLE]);
  });

  it('refuses a bad signature, a tampered body, an unknown key and missing headers (401 with the code)', async () => {
    const body = JSON.stringify({ sfzhm: SAMPLE.sfzhm });
    const cases: [Record<string, string>, string, string][] = [
      [signed(body, { appSecret: 'wrong' }), body, 'bad_signature'],
      [signed(body), JSON.stringify({ sfzhm: DEMO_HUKOU_RECORDS[1].sfzhm }), 'bad_body_hash'],
      [signed(body, { appKey: 'app-2' }), body, 'unknown_app'],
      [{}, body, 'missing_headers'],
    ];
    for (const [headers, sent, code] of cases) {
      const res = await send(headers, sent);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { code: string }).code).toBe(code);
    }
  });

  it('refuses a replayed nonce: the same signed request twice', async () => {
    const body = JSON.stringify({ sfzhm: SAMPLE.sfzhm });
    const headers = signed(body);
    expect((await send(headers, body)).status).toBe(200);
    const again = await send(headers, body);
    expect(again.status).toBe(401);
    expect(await again.json()).toMatchObject({ code: 'replayed_nonce', message: '请求随机数已使用（重放）' });
  });

  it('refuses a clock more than 5 minutes off, either way', async () => {
    const body = JSON.stringify({ sfzhm: SAMPLE.sfzhm });
    for (const offset of [6 * 60_000, -6 * 60_000]) {
      const res = await send(signed(body, { now: clock + offset }), body);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { code: string }).code).toBe('clock_skew');
    }
    // The service's own clock moved (a caller's clock 4 minutes behind is still fine).
    clock += 4 * 60_000;
    expect((await send(signed(body, { now: clock - 4 * 60_000 }), body)).status).toBe(200);
    clock = Date.now();
  });
});

describe('the HTTP connector', () => {
  let service: DemoDataService;
  let stub: http.Server;
  let stubUrl = '';
  let stubBehaviour: (res: http.ServerResponse) => void = () => {};
  beforeAll(async () => {
    service = await startDemoDataService();
    stub = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => stubBehaviour(res));
    });
    await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
    stubUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}${DEMO_HUKOU_PATH}`;
  });
  afterAll(async () => {
    await service.close();
    stub.closeAllConnections();
    await new Promise((r) => stub.close(r));
  });

  const demo = () => createConnectorRegistry([service.connector]).get('hukou-demo');
  const stubbed = (timeoutMs = 5000) =>
    createConnectorRegistry([{ ...demoHukouConnector(stubUrl, 'k', 's'), timeoutMs }]).get('hukou-demo');

  it('a sample person: one record, the fields mapped, consistent or not, the evidence hash of the answer', async () => {
    const c = demo();
    if (!c) throw new Error('no connector');
    const q = query(SAMPLE.sfzhm, SAMPLE.xm);
    const { response, records } = await c.fetch(q);
    expect(records).toEqual([SAMPLE]);
    const acts = createConnectorActivities({
      connectors: createConnectorRegistry([service.connector]),
      audit: async () => {},
      log: silentLog,
    });
    const found = await acts.queryConnector({ ...q, connector: 'hukou-demo', issuingUnit: 'ZB-GA' });
    expect(found).toMatchObject({
      outcome: 'match',
      result: 'consistent',
      fields: { registeredAddress: SAMPLE.hjdz, remark: SAMPLE.djjg },
      source: '公安局常住人口信息（数据共享交换平台·演示）',
    });
    expect(found.evidenceHash).toMatch(/^[0-9a-f]{64}$/);
    // The hash is the SHA-256 of the answer's canonical JSON (key order does not matter).
    expect(sha256Hex(canonicalJson(response))).toHaveLength(64);
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
    const other = await acts.queryConnector({
      ...query(SAMPLE.sfzhm, SAMPLE.xm, '淄博市周村区某路 1 号'),
      connector: 'hukou-demo',
      issuingUnit: 'ZB-GA',
    });
    expect(other).toMatchObject({ outcome: 'match', result: 'inconsistent' });
  });

  it('a person not in the data: no match, with the masked ID in the reason; another name: mismatch', async () => {
    const acts = createConnectorActivities({
      connectors: createConnectorRegistry([service.connector]),
      audit: async () => {},
      log: silentLog,
    });
    const none = await acts.queryConnector({
      ...query('11010519491231002X', '张三'),
      connector: 'hukou-demo',
      issuingUnit: 'ZB-GA',
    });
    expect(none).toMatchObject({
      outcome: 'no_match',
      reason: '数据源中没有身份证号 1101**********002X 的记录',
    });
    const renamed = await acts.queryConnector({
      ...query(SAMPLE.sfzhm, '李明'),
      connector: 'hukou-demo',
      issuingUnit: 'ZB-GA',
    });
    expect(renamed).toMatchObject({
      outcome: 'mismatch',
      reason: '数据源记录的姓名与协查对象的姓名不一致，需人工核实',
    });
  });

  it('a 5xx is ConnectorUnavailable (retried), a slow source ConnectorTimeout, a 401 ConnectorRefused (not retried)', async () => {
    stubBehaviour = (res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"code":"busy"}');
    };
    expect(await failureOf(stubbed()?.fetch(query(SAMPLE.sfzhm, SAMPLE.xm)) as Promise<unknown>)).toEqual({
      type: 'ConnectorUnavailable',
      message: '数据源服务异常（HTTP 503）',
      nonRetryable: false,
    });
    stubBehaviour = (res) => {
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"code":0,"data":{"records":[]}}');
      }, 1500);
    };
    const started = Date.now();
    expect(await failureOf(stubbed(300)?.fetch(query(SAMPLE.sfzhm, SAMPLE.xm)) as Promise<unknown>)).toEqual({
      type: 'ConnectorTimeout',
      message: '数据源查询超时（超过 0.3 秒未答复）',
      nonRetryable: false,
    });
    expect(Date.now() - started).toBeLessThan(1400);
    // The real service with a wrong secret: refused, and retrying would send the same.
    const wrong = createConnectorRegistry([{ ...service.connector, appSecret: 'not-the-secret' }]).get(
      'hukou-demo',
    );
    expect(await failureOf(wrong?.fetch(query(SAMPLE.sfzhm, SAMPLE.xm)) as Promise<unknown>)).toEqual({
      type: 'ConnectorRefused',
      message: '数据源拒绝了查询（HTTP 401：bad_signature）',
      nonRetryable: true,
    });
  });

  it('audits every query as the system acting for the issuing unit, answered or failed', async () => {
    const rows: Record<string, unknown>[] = [];
    const acts = createConnectorActivities({
      connectors: createConnectorRegistry([service.connector]),
      audit: async (entry) => rows.push(entry),
      log: silentLog,
    });
    const found = await acts.queryConnector({
      ...query(SAMPLE.sfzhm, SAMPLE.xm),
      connector: 'hukou-demo',
      issuingUnit: 'ZB-GA',
    });
    await failureOf(
      acts.queryConnector({ ...query(SAMPLE.sfzhm, SAMPLE.xm), connector: 'nowhere', issuingUnit: 'ZB-GA' }),
    );
    expect(rows).toEqual([
      expect.objectContaining({
        actorId: 'system:connector:hukou-demo',
        actorUnit: 'ZB-GA',
        action: 'connector.query',
        caseId: 'case-x',
        outcome: 'allowed',
        detail: expect.objectContaining({ outcome: 'match', records: 1, evidenceHash: found.evidenceHash }),
      }),
      expect.objectContaining({
        actorId: 'system:connector:nowhere',
        action: 'connector.query',
        outcome: 'error',
        detail: expect.objectContaining({
          error: 'ConnectorNotConfigured',
          reason: '未配置数据源连接器「nowhere」',
        }),
      }),
    ]);
    // No secret in what anyone else may see of a connector.
    const registry = createConnectorRegistry([service.connector]);
    expect(JSON.stringify(registry.describe('hukou-demo'))).not.toContain(
      service.connector.appSecret as string,
    );
    expect(JSON.stringify(rows)).not.toContain(service.connector.appSecret as string);
  });
});

describe.each(databaseTargets())('the SQL connector on $name', (target) => {
  let database: Awaited<ReturnType<typeof target.open>>;
  beforeAll(async () => {
    database = await target.open();
    for (const statement of [
      'create table if not exists demo_hukou (xm text, sfzhm text, hjdz text, djjg text)',
      'delete from demo_hukou',
      `insert into demo_hukou values ('${SAMPLE.xm}', '${SAMPLE.sfzhm}', '${SAMPLE.hjdz}', '${SAMPLE.djjg}')`,
      'create or replace view demo_hukou_view as select xm, sfzhm, hjdz, djjg from demo_hukou',
    ])
      await database.db.execute(sql.raw(statement));
  });
  afterAll(() => database?.dispose());

  const config = (over: Partial<SqlConnectorConfig> = {}): SqlConnectorConfig => ({
    name: 'hukou-sql',
    kind: 'sql',
    label: '户籍库视图',
    query: 'select xm, sfzhm, hjdz, djjg from demo_hukou_view where sfzhm = $1',
    params: ['subject.idNumber'],
    timeoutMs: 1500,
    mapping: {
      match: { idNumber: 'sfzhm', name: 'xm' },
      fields: { registeredAddress: 'hjdz', remark: 'djjg' },
      compare: [{ declared: 'declaredAddress', answer: 'registeredAddress' }],
    },
    ...over,
  });

  it('answers from the view with a bound parameter: match and no match', async () => {
    const acts = createConnectorActivities({
      connectors: createConnectorRegistry([config()], { db: database.db }),
      audit: async () => {},
      log: silentLog,
    });
    const found = await acts.queryConnector({
      ...query(SAMPLE.sfzhm, SAMPLE.xm),
      connector: 'hukou-sql',
      issuingUnit: 'ZB-GA',
    });
    expect(found).toMatchObject({
      outcome: 'match',
      result: 'consistent',
      fields: { registeredAddress: SAMPLE.hjdz },
      source: '户籍库视图',
    });
    // An injection attempt is only a value.
    const none = await acts.queryConnector({
      ...query("x' or '1'='1", SAMPLE.xm),
      connector: 'hukou-sql',
      issuingUnit: 'ZB-GA',
    });
    expect(none.outcome).toBe('no_match');
  });

  it('runs in a READ ONLY transaction with the statement timeout; a write is refused', async () => {
    const probe = sqlConnector(
      config({
        query:
          "select $1::text as sfzhm, current_setting('transaction_read_only') as xm, current_setting('statement_timeout') as hjdz, 'x' as djjg",
      }),
      drizzleReadOnly(database.db),
    );
    const { records } = await probe.fetch(query(SAMPLE.sfzhm, SAMPLE.xm));
    expect(records[0]).toMatchObject({ xm: 'on', hjdz: '1500ms' });
    const writer = sqlConnector(
      config({ query: 'with w as (insert into demo_hukou (sfzhm) values ($1) returning *) select * from w' }),
      drizzleReadOnly(database.db),
    );
    expect(await failureOf(writer.fetch(query('370302199007180037', 'x')))).toMatchObject({
      type: 'ConnectorUnavailable',
      message: '数据源服务异常（数据库查询失败）',
    });
    const [{ n }] = (
      (await database.db.execute(sql.raw('select count(*)::int as n from demo_hukou'))) as unknown as {
        rows: { n: number }[];
      }
    ).rows as [{ n: number }];
    expect(n).toBe(1);
  });

  it('a statement past its timeout is ConnectorTimeout', async () => {
    const slow = sqlConnector(config(), async () => {
      throw Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' });
    });
    expect(await failureOf(slow.fetch(query(SAMPLE.sfzhm, SAMPLE.xm)))).toMatchObject({
      type: 'ConnectorTimeout',
      message: '数据源查询超时（超过 1.5 秒未答复）',
    });
  });
});
