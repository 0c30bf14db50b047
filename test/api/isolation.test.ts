/**
 * Unit isolation (Art. 12), as a matrix of role × endpoint → status, driven by the table below:
 *
 * - req-a  王芳, agent of ZB-RS — the requesting unit of every case here
 * - req-b  孙丽, agent of ZB-SJ — another requesting unit
 * - iss-a  郑伟, agent of ZB-GA — the issuing unit of every case here;  iss-a-lia 陈静, its liaison
 * - iss-b  褚亮, agent of ZB-MZ — another issuing unit (the target of a re-route)
 * - office 韩梅, supervisor of the joint-meeting office;  admin 杨帆, administrator
 *
 * Each row names the case fixture it acts on. Denied roles all try the same instance first (and must
 * leave it unchanged; a hidden case answers 404 and leaves a `denied` audit row); each allowed role then
 * gets an instance of its own, so one allowed act never spoils the next. The matrix as run is printed at
 * the end (and written to test-results/isolation-matrix.md).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { and, count, eq } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../../api/app.ts';
import { type CaseGateway, caseWorkflowId, createCaseGateway } from '../../api/services/case-gateway.ts';
import { PayloadCipherCodec } from '../../app/payload-codec.ts';
import { auditLog, caseEvents, cases, escalations } from '../../db/schema.ts';
import { demoStaffId } from '../../db/seed.ts';
import type { CaseInput } from '../../workflows/definitions.ts';
import { type ApiHarness, createApiHarness, startBody, TEST_JWT_SECRET, VALID_ID } from '../support/api.ts';
import { databaseTargets } from '../support/databases.ts';
import {
  createDevServerEnv,
  silentLog,
  TEST_AUDIT_KEY,
  TEST_CONTENT_CIPHER,
  TEST_PAYLOAD_KEY,
  TEST_SUBJECT_KEY,
} from '../support/temporal.ts';

const ROLES = ['req-a', 'req-b', 'iss-a', 'iss-a-lia', 'iss-b', 'office', 'admin'] as const;
type Role = (typeof ROLES)[number];
type Fixture = 'fresh' | 'registered' | 'returned' | 'rerouted' | 'answered_inconsistent' | 'escalated';
interface Target {
  id: string;
  escId?: string;
}

/** Status per role, in ROLES order. */
const S = (...codes: number[]): Record<Role, number> =>
  Object.fromEntries(ROLES.map((r, i) => [r, codes[i] as number])) as Record<Role, number>;

interface Row {
  endpoint: string;
  on?: Fixture;
  request(t: Target): InjectOptions;
  expect: Record<Role, number>;
  /** Extra checks of an allowed answer. */
  check?(role: Role, res: LightMyRequestResponse, t: Target): void | Promise<void>;
  /** Served by the app with the payload codec (the shared harness has none). */
  codec?: boolean;
}

const post = (url: string, payload: unknown = {}): InjectOptions => ({
  method: 'POST',
  url,
  payload: payload as InjectOptions['payload'],
});
const action =
  (name: string, payload: unknown = {}) =>
  (t: Target) =>
    post(`/api/v1/verifications/${t.id}/${name}`, payload);

let env: TestWorkflowEnvironment;
let h: ApiHarness;
let codecApp: App;
let gateway: CaseGateway;
const auth = {} as Record<Role, string>;
/** Reference cases for the list rows: one in ZB-GA's inbox, one escalated. */
let ref: Target;
let refEscalated: Target;

async function start(): Promise<string> {
  const res = await h.app.inject({
    method: 'POST',
    url: '/api/v1/verifications',
    headers: { authorization: auth['req-a'], 'idempotency-key': `iso-${randomUUID()}` },
    payload: startBody(),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id;
}

async function act(role: Role, id: string, name: string, payload: unknown = {}) {
  const res = await h.app.inject({
    ...post(`/api/v1/verifications/${id}/${name}`, payload),
    headers: { authorization: auth[role] },
  });
  expect(res.statusCode, `${role} ${name}: ${res.body}`).toBe(200);
}

/** A case 20 days overdue: started through the gateway with an old receipt time, so it escalates at once. */
async function escalatedCase(): Promise<Target> {
  const caseId = caseWorkflowId('ZB-RS', `iso-esc-${randomUUID()}`);
  const input: CaseInput = {
    caseId,
    requestingUnit: 'ZB-RS',
    issuingUnit: 'ZB-GA',
    catalog: { code: 'HJ-001', version: 1, name: '户籍信息证明' },
    subject: { kind: 'person', name: '张三', idNumber: VALID_ID },
    fields: { declaredAddress: '淄博市张店区人民西路 1 号' },
    purpose: '社会保险参保登记',
    tier: '30m',
    createdBy: { staffId: demoStaffId('req-a'), name: '王芳', unitCode: 'ZB-RS', role: 'agent' },
    requestedAt: new Date(Date.now() - 20 * 86_400_000).toISOString(),
  };
  await gateway.start(input, caseId);
  for (let i = 0; i < 100; i++) {
    const [esc] = await h.database.db.select().from(escalations).where(eq(escalations.caseId, caseId));
    if (esc) return { id: caseId, escId: esc.id };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`case ${caseId} did not escalate`);
}

const FIXTURES: Record<Fixture, () => Promise<Target>> = {
  fresh: async () => ({ id: await start() }),
  registered: async () => {
    const id = await start();
    await act('iss-a', id, 'register');
    return { id };
  },
  returned: async () => {
    const id = await start();
    await act('iss-a', id, 'return', { reason: '非本单位职责' });
    return { id };
  },
  rerouted: async () => {
    const id = await start();
    await act('iss-a', id, 'return', { reason: '非本单位职责', suggestedUnit: 'ZB-MZ' });
    await act('req-a', id, 'reroute', { issuingUnit: 'ZB-MZ' });
    return { id };
  },
  answered_inconsistent: async () => {
    const id = await start();
    await act('iss-a', id, 'register');
    await act('iss-a', id, 'respond', {
      result: 'inconsistent',
      fields: { registeredAddress: '淄博市周村区' },
    });
    return { id };
  },
  escalated: escalatedCase,
};

/** For a list's export: the reference case's row (its 文号) is in the workbook exactly for these roles. */
const exported = (roles: Role[]) => async (role: Role, res: LightMyRequestResponse) => {
  const [row] = await h.database.db
    .select({ docNumber: cases.docNumber })
    .from(cases)
    .where(eq(cases.id, ref.id));
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(res.rawPayload as unknown as ExcelJS.Buffer);
  const docs: unknown[] = [];
  wb.worksheets[0]?.eachRow((r, n) => {
    if (n > 1) docs.push((r.values as unknown[])[1]);
  });
  if (roles.includes(role)) expect(docs, role).toContain(row?.docNumber);
  else expect(docs, role).not.toContain(row?.docNumber);
};

const ids = (res: LightMyRequestResponse) =>
  (res.json().items as { id?: string; caseId?: string }[]).map((i) => i.id);
/** For a list: the reference case is in it exactly for these roles. */
const listed =
  (roles: Role[], which: () => Target = () => ref) =>
  (role: Role, res: LightMyRequestResponse) => {
    if (roles.includes(role)) expect(ids(res), role).toContain(which().id);
    else expect(ids(res), role).not.toContain(which().id);
  };

const ISSUER_ACT = S(403, 404, 200, 200, 404, 404, 404);
const REQUESTER_ACT = S(200, 404, 403, 403, 404, 404, 404);
const OFFICE_ONLY = S(403, 403, 403, 403, 403, 200, 403);

const ROWS: Row[] = [
  // ─── Lists ────────────────────────────────────────────────────────────────────────────────
  {
    endpoint: 'GET /verifications?box=inbox',
    request: () => ({ url: '/api/v1/verifications?box=inbox&limit=200' }),
    expect: S(200, 200, 200, 200, 200, 403, 403),
    check: listed(['iss-a', 'iss-a-lia']),
  },
  {
    endpoint: 'GET /verifications?box=outbox',
    request: () => ({ url: '/api/v1/verifications?box=outbox&limit=200' }),
    expect: S(200, 200, 200, 200, 200, 403, 403),
    check: listed(['req-a']),
  },
  {
    endpoint: 'GET /verifications/counts?box=inbox',
    request: () => ({ url: '/api/v1/verifications/counts?box=inbox' }),
    expect: S(200, 200, 200, 200, 200, 403, 403),
  },
  {
    endpoint: 'GET /verifications/export.xlsx?box=inbox',
    request: () => ({ url: '/api/v1/verifications/export.xlsx?box=inbox' }),
    expect: S(200, 200, 200, 200, 200, 403, 403),
    check: exported(['iss-a', 'iss-a-lia']),
  },
  {
    endpoint: 'GET /verifications/export.xlsx?box=outbox',
    request: () => ({ url: '/api/v1/verifications/export.xlsx?box=outbox' }),
    expect: S(200, 200, 200, 200, 200, 403, 403),
    check: exported(['req-a']),
  },
  {
    endpoint: 'GET /verifications?box=escalated',
    request: () => ({ url: '/api/v1/verifications?box=escalated&limit=200' }),
    expect: OFFICE_ONLY,
    check: listed(['office'], () => refEscalated),
  },
  {
    endpoint: 'POST /verifications/search-by-subject',
    request: () =>
      post('/api/v1/verifications/search-by-subject', { idNumber: VALID_ID, purpose: '核对申请人' }),
    expect: S(200, 200, 200, 200, 200, 403, 403),
    check: (role, res) => {
      listed(['req-a', 'iss-a', 'iss-a-lia'])(role, res);
      expect(res.body).not.toContain(VALID_ID);
    },
  },
  // ─── Case detail ──────────────────────────────────────────────────────────────────────────
  {
    endpoint: 'GET /verifications/:id',
    on: 'fresh',
    request: (t) => ({ url: `/api/v1/verifications/${t.id}` }),
    expect: S(200, 404, 200, 200, 404, 404, 404),
    check: (role, res) => {
      expect(res.json().access).toBe('full');
      // In full to the person handling the case only (here its sender); masked to their colleagues.
      expect(res.json().content.subject.idNumber, role).toBe(
        role === 'req-a' ? VALID_ID : `${VALID_ID.slice(0, 4)}**********${VALID_ID.slice(-4)}`,
      );
    },
  },
  {
    endpoint: 'POST /verifications/:id/reveal',
    on: 'fresh',
    request: (t) => post(`/api/v1/verifications/${t.id}/reveal`, { field: 'idNumber', purpose: '核对身份' }),
    expect: S(200, 404, 200, 200, 404, 404, 404),
    check: (_role, res) => expect(res.json().idNumber).toBe(VALID_ID),
  },
  {
    endpoint: 'GET /verifications/:id (escalated, with purpose)',
    on: 'escalated',
    request: (t) => ({ url: `/api/v1/verifications/${t.id}?purpose=${encodeURIComponent('逾期督办核查')}` }),
    expect: S(200, 404, 200, 200, 404, 200, 404),
    check: async (role, res, t) => {
      expect(res.json().access).toBe('full');
      if (role !== 'office') return;
      const [row] = await h.database.db
        .select()
        .from(auditLog)
        .where(
          and(
            eq(auditLog.caseId, t.id),
            eq(auditLog.actorId, demoStaffId('office')),
            eq(auditLog.outcome, 'allowed'),
          ),
        );
      expect(row?.purpose).toBe('逾期督办核查');
    },
  },
  {
    endpoint: 'GET /verifications/:id (escalated, no purpose)',
    on: 'escalated',
    request: (t) => ({ url: `/api/v1/verifications/${t.id}` }),
    expect: S(200, 404, 200, 200, 404, 422, 404),
  },
  {
    endpoint: 'GET /verifications/:id (returned by ZB-GA, re-routed to ZB-MZ)',
    on: 'rerouted',
    request: (t) => ({ url: `/api/v1/verifications/${t.id}` }),
    expect: S(200, 404, 200, 200, 200, 404, 404),
    check: (role, res) => {
      const d = res.json();
      if (role === 'iss-a' || role === 'iss-a-lia') {
        // Its own part only: no content, no answer, no templates, only its own acts on the timeline.
        expect(d.access).toBe('returned_part');
        expect(d.content).toBeNull();
        expect(d.answer).toBeNull();
        expect(d.templates).toBeNull();
        expect(res.body).not.toContain(VALID_ID);
        expect(d.timeline.map((e: { type: string }) => e.type)).toEqual(['created', 'returned']);
      } else {
        expect(d.access).toBe('full');
        expect(d.timeline.map((e: { type: string }) => e.type)).toEqual(['created', 'returned', 'rerouted']);
      }
    },
  },
  // ─── Actions ──────────────────────────────────────────────────────────────────────────────
  {
    endpoint: 'POST /verifications/:id/register',
    on: 'fresh',
    request: action('register'),
    expect: ISSUER_ACT,
  },
  {
    endpoint: 'POST /verifications/:id/respond',
    on: 'registered',
    request: action('respond', { result: 'consistent', fields: { registeredAddress: '淄博市张店区' } }),
    expect: ISSUER_ACT,
  },
  {
    endpoint: 'POST /verifications/:id/return',
    on: 'fresh',
    request: action('return', { reason: '非本单位职责' }),
    expect: ISSUER_ACT,
  },
  {
    endpoint: 'POST /verifications/:id/reclassify',
    on: 'fresh',
    request: action('reclassify', { tier: '1d', reason: '需查阅纸质档案' }),
    expect: ISSUER_ACT,
  },
  {
    endpoint: 'POST /verifications/:id/reassign',
    on: 'registered',
    request: action('reassign', { toStaffId: demoStaffId('iss-a2') }),
    expect: S(403, 404, 403, 200, 404, 404, 404),
  },
  {
    endpoint: 'POST /verifications/:id/reroute',
    on: 'returned',
    request: action('reroute', { issuingUnit: 'ZB-MZ' }),
    expect: REQUESTER_ACT,
  },
  {
    endpoint: 'POST /verifications/:id/close',
    on: 'returned',
    request: action('close', { reason: '申请人已自行提交' }),
    expect: REQUESTER_ACT,
  },
  {
    endpoint: 'POST /verifications/:id/urge',
    on: 'fresh',
    request: action('urge', { reason: '请尽快' }),
    expect: REQUESTER_ACT,
  },
  {
    endpoint: 'POST /verifications/:id/withdraw',
    on: 'fresh',
    request: action('withdraw', { reason: '申请人撤回申请' }),
    expect: REQUESTER_ACT,
  },
  {
    endpoint: 'POST /verifications/:id/offline',
    on: 'fresh',
    request: action('offline', { channel: 'fax', note: '系统故障，传真核验' }),
    expect: REQUESTER_ACT,
  },
  {
    endpoint: 'POST /verifications/:id/applicant-proof',
    on: 'fresh',
    request: action('applicant-proof', { note: '申请人自行提交户口簿' }),
    expect: REQUESTER_ACT,
  },
  {
    endpoint: 'POST /verifications/:id/ledger',
    on: 'answered_inconsistent',
    request: action('ledger', { kind: 'supplement_requested', note: '请申请人补正材料' }),
    expect: S(201, 404, 403, 403, 404, 404, 404),
  },
  {
    endpoint: 'POST /verifications/:id/register (escalated: the office sees, but does not act)',
    on: 'escalated',
    request: action('register'),
    expect: S(403, 404, 200, 200, 404, 403, 404),
  },
  // ─── The office ───────────────────────────────────────────────────────────────────────────
  {
    endpoint: 'GET /escalations',
    request: () => ({ url: '/api/v1/escalations' }),
    expect: OFFICE_ONLY,
    check: (_role, res) =>
      expect(res.json().items.map((e: { id: string }) => e.id)).toContain(refEscalated.escId),
  },
  {
    endpoint: 'POST /escalations/:id/order',
    on: 'escalated',
    request: (t) =>
      post(`/api/v1/escalations/${t.escId}/order`, {
        dueAt: new Date(Date.now() + 2 * 86_400_000).toISOString(),
        note: '责成两日内办结',
      }),
    expect: OFFICE_ONLY,
    check: (_role, res) => expect(res.json().status).toBe('ordered'),
  },
  {
    endpoint: 'POST /escalations/:id/close',
    on: 'escalated',
    request: (t) => post(`/api/v1/escalations/${t.escId}/close`, { outcome: '已约谈并督促办结' }),
    expect: OFFICE_ONLY,
    check: (_role, res) => expect(res.json().status).toBe('closed'),
  },
  {
    endpoint: 'GET /audit?caseId=…',
    request: () => ({ url: `/api/v1/audit?caseId=${ref.id}` }),
    expect: OFFICE_ONLY,
    check: (_role, res) => expect(res.json().items.length).toBeGreaterThan(0),
  },
  {
    endpoint: 'POST /codec/decode',
    request: () => post('/api/v1/codec/decode', { payloads: [] }),
    // Administrators read no case content, through the codec neither.
    expect: S(403, 403, 403, 403, 403, 200, 403),
    codec: true,
  },
];

/** As run: endpoint → role → status. */
const results = new Map<string, Partial<Record<Role, number>>>();

beforeAll(async () => {
  env = await createDevServerEnv();
  const [target] = databaseTargets();
  if (!target) throw new Error('no database target');
  h = await createApiHarness(env, target);
  gateway = createCaseGateway(env.client, h.worker.options.taskQueue);
  codecApp = await buildApp({
    log: silentLog,
    db: h.database.db,
    gateway,
    jwtSecret: TEST_JWT_SECRET,
    subjectKey: TEST_SUBJECT_KEY,
    auditKey: TEST_AUDIT_KEY,
    contentCipher: TEST_CONTENT_CIPHER,
    calendar: { current: async () => ({}) } as never,
    readiness: { database: async () => {}, pendingMigrations: async () => 0, temporal: async () => {} },
    payloadCodec: new PayloadCipherCodec(TEST_PAYLOAD_KEY),
  });
  for (const r of ROLES) auth[r] = await h.login(r);
  ref = await FIXTURES.fresh();
  refEscalated = await FIXTURES.escalated();
});

afterAll(async () => {
  const mark = (expected: number, actual: number | undefined) =>
    `${actual === expected ? '' : '❗'}${expected < 300 ? '✔' : '✘'} ${actual ?? '–'}`;
  const table = [
    `| endpoint | ${ROLES.join(' | ')} |`,
    `| --- | ${ROLES.map(() => '---').join(' | ')} |`,
    ...ROWS.map((row) => {
      const got = results.get(row.endpoint) ?? {};
      return `| ${row.endpoint} | ${ROLES.map((r) => mark(row.expect[r], got[r])).join(' | ')} |`;
    }),
  ].join('\n');
  mkdirSync('test-results', { recursive: true });
  writeFileSync('test-results/isolation-matrix.md', `${table}\n`);
  console.log(`\nIsolation matrix (✔ allowed, ✘ denied; the status as answered):\n${table}\n`);
  await codecApp?.close();
  await h?.close();
  await env?.teardown();
});

async function caseState(id: string) {
  const [row] = await h.database.db
    .select({
      status: cases.status,
      lastSeq: cases.lastSeq,
      issuingUnit: cases.issuingUnit,
      tier: cases.tier,
    })
    .from(cases)
    .where(eq(cases.id, id));
  const [events] = await h.database.db
    .select({ n: count() })
    .from(caseEvents)
    .where(eq(caseEvents.caseId, id));
  const escs = await h.database.db
    .select({ status: escalations.status })
    .from(escalations)
    .where(eq(escalations.caseId, id));
  return { row, events: events?.n, escs };
}

describe('unit isolation: role × endpoint', () => {
  it.each(ROWS)('$endpoint', async (row) => {
    const got: Partial<Record<Role, number>> = {};
    results.set(row.endpoint, got);
    const app = row.codec ? codecApp : h.app;
    const reads = (row.request({ id: 'x', escId: 'x' }).method ?? 'GET') === 'GET';
    const shared = row.on ? await FIXTURES[row.on]() : ref;
    const denied = ROLES.filter((r) => row.expect[r] >= 400);
    const allowed = ROLES.filter((r) => row.expect[r] < 400);

    const before = row.on ? await caseState(shared.id) : undefined;
    for (const role of denied) {
      const res = await app.inject({ ...row.request(shared), headers: { authorization: auth[role] } });
      got[role] = res.statusCode;
      expect(res.statusCode, `${role}: ${res.body}`).toBe(row.expect[role]);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      if (res.statusCode === 404) {
        // No existence leak, and the attempt is on record.
        expect(res.json().detail).toBe('未找到该协查，或您无权查看');
        const [audit] = await h.database.db
          .select()
          .from(auditLog)
          .where(
            and(
              eq(auditLog.caseId, shared.id),
              eq(auditLog.actorId, demoStaffId(role)),
              eq(auditLog.outcome, 'denied'),
            ),
          );
        expect(audit, `${role}: denied audit row`).toBeDefined();
      }
    }
    if (before) expect(await caseState(shared.id)).toEqual(before);

    for (const role of allowed) {
      const t = row.on && !reads ? await FIXTURES[row.on]() : shared;
      const res = await app.inject({ ...row.request(t), headers: { authorization: auth[role] } });
      got[role] = res.statusCode;
      expect(res.statusCode, `${role}: ${res.body}`).toBe(row.expect[role]);
      await row.check?.(role, res, t);
    }
  });
});
