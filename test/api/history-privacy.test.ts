/**
 * What Temporal stores holds no readable personal data (issue 4): a case is started through the API
 * with a real name, an ID number and request fields; it is returned with a reason naming the person; a
 * re-route fails inside the workflow with a message full of personal data; and an activity fails once
 * with such a message before it succeeds. Then the workflow's history is read raw from the dev server,
 * serialised to bytes and JSON, and searched: none of the data may appear in plaintext, failure messages
 * included. The same payloads, sent to the operators' codec endpoint, do read back — so the search
 * would have found them if they were there.
 */
import type { Payload } from '@temporalio/common';
import { ApplicationFailure } from '@temporalio/common';
import proto from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCalendarSource } from '../../activities/calendar-source.ts';
import { createCaseActivities } from '../../activities/case-activities.ts';
import { type App, buildApp } from '../../api/app.ts';
import { createCaseGateway } from '../../api/services/case-gateway.ts';
import { PayloadCipherCodec } from '../../app/payload-codec.ts';
import { auditLog } from '../../db/schema.ts';
import type { CaseActivities } from '../../workflows/activity-contract.ts';
import { TEST_JWT_SECRET, VALID_ID } from '../support/api.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import {
  caseWorker,
  createDevServerEnv,
  silentLog,
  TEST_AUDIT_KEY,
  TEST_CONTENT_CIPHER,
  TEST_PAYLOAD_KEY,
  TEST_SUBJECT_KEY,
  uniqueTaskQueue,
} from '../support/temporal.ts';

const { temporal } = proto;

const NAME = '欧阳明月';
const ADDRESS = '淄博市张店区柳泉路八十八号';
const PURPOSE = '城乡居民养老保险待遇领取资格认证';
/** Every one of these must be unreadable in the stored history. */
const SECRETS = { name: NAME, idNumber: VALID_ID, address: ADDRESS, purpose: PURPOSE };

let env: TestWorkflowEnvironment;
let database: TestDatabase;
let worker: Worker;
let running: Promise<void>;
let app: App;
const auth: Record<string, string> = {};
/** The test's switches for the activities that fail on purpose. */
const faults = { projectionFailedOnce: false, failDeadlines: false };

/** The real activities, except that the first projection of a case and, on demand, a deadline fail. */
function leakyActivities(real: CaseActivities): CaseActivities {
  return {
    ...real,
    async projectCase(input) {
      // The return's projection (a local activity, patch local-steps) fails once with the person's data
      // in its message: retried inside the workflow task, it leaves only its attempt count in history.
      if (input.event.type === 'returned' && !faults.projectionFailedOnce) {
        faults.projectionFailedOnce = true;
        // A retryable failure, retried at once.
        throw new Error(
          `写入失败：${NAME} ${VALID_ID} ${JSON.stringify({ declaredAddress: ADDRESS })} ${PURPOSE}`,
        );
      }
      return real.projectCase(input);
    },
    async computeDeadline(input) {
      if (faults.failDeadlines)
        throw ApplicationFailure.nonRetryable(
          `无法为 ${NAME}（${VALID_ID}，${ADDRESS}）计算时限`,
          'TestFault',
        );
      return real.computeDeadline(input);
    },
  };
}

beforeAll(async () => {
  env = await createDevServerEnv();
  const [target] = databaseTargets();
  if (!target) throw new Error('no database target');
  database = await target.open();
  const taskQueue = uniqueTaskQueue('privacy');
  const calendar = createCalendarSource(database.db);
  worker = await caseWorker(
    env,
    leakyActivities(
      createCaseActivities({
        db: database.db,
        calendar,
        subjectKey: TEST_SUBJECT_KEY,
        contentCipher: TEST_CONTENT_CIPHER,
        log: silentLog,
      }),
    ),
    taskQueue,
  );
  running = worker.run();
  app = await buildApp({
    log: silentLog,
    db: database.db,
    gateway: createCaseGateway(env.client, taskQueue),
    jwtSecret: TEST_JWT_SECRET,
    subjectKey: TEST_SUBJECT_KEY,
    auditKey: TEST_AUDIT_KEY,
    contentCipher: TEST_CONTENT_CIPHER,
    calendar,
    readiness: { database: async () => {}, pendingMigrations: async () => 0, temporal: async () => {} },
    payloadCodec: new PayloadCipherCodec(TEST_PAYLOAD_KEY),
  });
  for (const u of ['req-a', 'iss-a', 'office', 'admin']) {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: u, password: 'demo1234' },
    });
    auth[u] = `Bearer ${res.json().token}`;
  }
});

afterAll(async () => {
  await app?.close();
  worker?.shutdown();
  await running;
  await database?.dispose();
  await env?.teardown();
});

/** Every Payload in a decoded history object (inputs, results, update arguments, encoded failures). */
/** Markers the Temporal SDK writes for `patched()` and local activities. */
const SDK_MARKERS = new Set(['core_patch', 'core_local_activity']);
/** What those markers' own details may hold (besides a local activity's encrypted result). */
const SDK_MARKER_FIELDS = new Set([
  'id',
  'patch_id',
  'deprecated',
  'seq',
  'attempt',
  'activity_id',
  'activity_type',
  'complete_time',
  'backoff',
  'original_schedule_time',
]);

function payloadsIn(value: unknown, out: Payload[] = []): Payload[] {
  if (!value || typeof value !== 'object' || value instanceof Uint8Array) return out;
  const o = value as Record<string, unknown>;
  if (o.data instanceof Uint8Array && o.metadata && typeof o.metadata === 'object') {
    out.push(o as Payload);
    return out;
  }
  for (const v of Object.values(o)) payloadsIn(v, out);
  return out;
}

const toCodecJson = (p: Payload) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [
      k,
      Buffer.from(v ?? new Uint8Array()).toString('base64'),
    ]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

describe('Temporal history of a case', () => {
  let caseId: string;
  let history: proto.temporal.api.history.v1.IHistory;

  it('is built through the API: started, returned with a reason naming the person, a re-route failing with personal data', async () => {
    const started = await app.inject({
      method: 'POST',
      url: '/api/v1/verifications',
      headers: { authorization: auth['req-a'], 'idempotency-key': 'privacy-0001' },
      payload: {
        catalogCode: 'HJ-001',
        subject: { kind: 'person', name: NAME, idNumber: VALID_ID },
        fields: { declaredAddress: ADDRESS },
        purpose: PURPOSE,
      },
    });
    expect(started.statusCode, started.body).toBe(201);
    caseId = started.json().id;
    expect(started.body).not.toContain(VALID_ID);

    const returned = await app.inject({
      method: 'POST',
      url: `/api/v1/verifications/${caseId}/return`,
      headers: { authorization: auth['iss-a'] },
      payload: { reason: `${NAME}（${VALID_ID}）的户籍不在本局`, suggestedUnit: 'ZB-MZ' },
    });
    expect(returned.statusCode, returned.body).toBe(200);
    expect(faults.projectionFailedOnce).toBe(true);

    // The Update fails inside the workflow (its activity fails): the failure enters history.
    faults.failDeadlines = true;
    try {
      const rerouted = await app.inject({
        method: 'POST',
        url: `/api/v1/verifications/${caseId}/reroute`,
        headers: { authorization: auth['req-a'] },
        payload: { issuingUnit: 'ZB-MZ', note: `请核查 ${NAME} 的婚姻登记` },
      });
      expect(rerouted.statusCode).toBe(500);
      expect(rerouted.headers['content-type']).toMatch(/^application\/problem\+json/);
      for (const secret of Object.values(SECRETS)) expect(rerouted.body).not.toContain(secret);
    } finally {
      faults.failDeadlines = false;
    }

    // A refused Update (validator): nothing enters history, and its message carries no data either.
    const refused = await app.inject({
      method: 'POST',
      url: `/api/v1/verifications/${caseId}/reroute`,
      headers: { authorization: auth['req-a'] },
      payload: { issuingUnit: 'ZB-GA', note: `${NAME} ${VALID_ID}` },
    });
    expect(refused.statusCode).toBe(422);
    for (const secret of Object.values(SECRETS)) expect(refused.body).not.toContain(secret);

    const raw = await env.client.workflowService.getWorkflowExecutionHistory({
      namespace: env.namespace ?? 'default',
      execution: { workflowId: caseId },
    });
    history = raw.history ?? {};
    const types = (history.events ?? []).map((e) => temporal.api.enums.v1.EventType[e.eventType ?? 0]);
    expect(types).toContain('EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED');
    expect(types).toContain('EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED');
    // The return's projection failed once and was retried as a local activity: its marker says attempt 2.
    const attempts = (history.events ?? []).flatMap((e) => {
      const data = e.markerRecordedEventAttributes?.details?.data?.payloads?.[0]?.data;
      if (e.markerRecordedEventAttributes?.markerName !== 'core_local_activity' || !data) return [];
      return [JSON.parse(Buffer.from(data).toString()) as { activity_type: string; attempt: number }];
    });
    expect(attempts).toContainEqual(expect.objectContaining({ activity_type: 'projectCase', attempt: 2 }));
  });

  it('holds none of the personal data in plaintext: not in payloads, not in failure messages', () => {
    const bytes = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
    expect(bytes.length).toBeGreaterThan(1000);
    const message = temporal.api.history.v1.History.fromObject(history);
    const json = JSON.stringify(temporal.api.history.v1.History.toObject(message, { bytes: String }));
    for (const [what, secret] of Object.entries(SECRETS)) {
      expect(bytes.includes(Buffer.from(secret)), `${what} in the history's bytes`).toBe(false);
      expect(json.includes(secret), `${what} in the history as JSON`).toBe(false);
    }
    // Every failure's message is the codec's placeholder; the real one is encrypted in its attributes.
    const failures: { message?: string | null; encodedAttributes?: unknown }[] = [];
    const collect = (v: unknown) => {
      if (!v || typeof v !== 'object' || v instanceof Uint8Array) return;
      const o = v as Record<string, unknown>;
      if ('encodedAttributes' in o && 'message' in o) failures.push(o as never);
      for (const x of Object.values(o)) collect(x);
    };
    collect(history);
    expect(failures.length).toBeGreaterThanOrEqual(2);
    for (const f of failures) {
      expect(f.message).toBe('Encoded failure');
      expect(f.encodedAttributes).toBeTruthy();
    }
    // And every payload is AES-GCM ciphertext, except the SDK's own bookkeeping in its markers (a patch's
    // id, a local activity's sequence number and time), which never passes through the codec: those may be
    // plain JSON and are checked to hold only that bookkeeping.
    const bookkeeping: Payload[] = [];
    for (const e of history.events ?? []) {
      const marker = e.markerRecordedEventAttributes;
      if (marker?.markerName && SDK_MARKERS.has(marker.markerName)) {
        for (const [key, payloads] of Object.entries(marker.details ?? {})) {
          if (key === 'result') continue; // a local activity's result: our data, encrypted
          bookkeeping.push(...(payloads.payloads ?? []));
        }
      }
    }
    for (const p of bookkeeping) {
      const text = Buffer.from(p.data ?? new Uint8Array()).toString();
      expect(
        Object.keys(JSON.parse(text) as object).every((k) => SDK_MARKER_FIELDS.has(k)),
        text,
      ).toBe(true);
    }
    // `patched()` also lists the patch ids in the TemporalChangeVersion search attribute (indexed by the
    // server, so never encrypted): only patch ids of our workflow code.
    const changeVersions: Payload[] = [];
    for (const e of history.events ?? []) {
      const attrs = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {};
      for (const [name, p] of Object.entries(attrs)) {
        expect(name).toBe('TemporalChangeVersion');
        const ids = JSON.parse(Buffer.from(p.data ?? new Uint8Array()).toString()) as string[];
        for (const id of ids) expect(id).toMatch(/^[a-z0-9-]+$/);
        changeVersions.push(p);
      }
    }
    bookkeeping.push(...changeVersions);
    for (const p of payloadsIn(history).filter((p) => !bookkeeping.includes(p))) {
      expect(Buffer.from(p.metadata?.encoding ?? new Uint8Array()).toString()).toBe('binary/encrypted');
    }
  });

  it('reads back through the codec endpoint (supervisors only, not admins), audited: the test above would have found the data', async () => {
    const payloads = payloadsIn(history).map(toCodecJson);
    expect(payloads.length).toBeGreaterThan(5);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/codec/decode',
      headers: { authorization: auth.office, 'x-namespace': 'default' },
      payload: { payloads },
    });
    expect(res.statusCode, res.body).toBe(200);
    const decoded = (res.json().payloads as { metadata: Record<string, string>; data: string }[]).map(
      (p) => ({
        encoding: Buffer.from(p.metadata.encoding ?? '', 'base64').toString(),
        data: Buffer.from(p.data, 'base64').toString(),
      }),
    );
    const text = decoded.map((d) => d.data).join('\n');
    for (const [what, secret] of Object.entries(SECRETS)) expect(text.includes(secret), what).toBe(true);
    expect(text).toContain('无法为'); // the failed Update's (and its local activity's) message
    expect(text).not.toContain('写入失败'); // a local activity's retried failure is not kept in history
    expect(decoded.every((d) => d.encoding !== 'binary/encrypted')).toBe(true);

    // The Temporal CLI sends `{}` for an empty list (proto3 JSON leaves it out).
    const empty = await app.inject({
      method: 'POST',
      url: '/api/v1/codec/decode',
      headers: { authorization: auth.office },
      payload: {},
    });
    expect(empty.statusCode, empty.body).toBe(200);
    expect(empty.json()).toEqual({ payloads: [] });

    const admin = await app.inject({
      method: 'POST',
      url: '/api/v1/codec/decode',
      headers: { authorization: auth.admin },
      payload: { payloads: payloads.slice(0, 1) },
    });
    // Administrators read no case content (as for case reads); the refusal is on record.
    expect(admin.statusCode, admin.body).toBe(403);
    expect(admin.headers['content-type']).toMatch(/^application\/problem\+json/);

    const audits = await database.db.select().from(auditLog).where(eq(auditLog.action, 'codec.decode'));
    expect(audits.map((a) => [a.actorUnit, a.outcome, (a.detail as { payloads?: number }).payloads])).toEqual(
      [
        ['ZB-LXB', 'allowed', payloads.length],
        ['ZB-LXB', 'allowed', 0],
        ['ZB-LXB', 'denied', undefined],
      ],
    );
  });

  it('the codec endpoint refuses other staff, no token, and payloads it did not encrypt', async () => {
    const one = payloadsIn(history).map(toCodecJson).slice(0, 1);
    const asReq = await app.inject({
      method: 'POST',
      url: '/api/v1/codec/decode',
      headers: { authorization: auth['req-a'] },
      payload: { payloads: one },
    });
    expect(asReq.statusCode).toBe(403);
    const anonymous = await app.inject({
      method: 'POST',
      url: '/api/v1/codec/decode',
      payload: { payloads: one },
    });
    expect(anonymous.statusCode).toBe(401);

    const tampered = structuredClone(one);
    const data = Buffer.from(tampered[0]?.data ?? '', 'base64');
    data[data.length - 1] = (data[data.length - 1] ?? 0) ^ 1;
    if (tampered[0]) tampered[0].data = data.toString('base64');
    const bad = await app.inject({
      method: 'POST',
      url: '/api/v1/codec/decode',
      headers: { authorization: auth.office },
      payload: { payloads: tampered },
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('encodes what the worker can decode (the UI sends edited inputs back)', async () => {
    const plain = {
      metadata: { encoding: Buffer.from('json/plain').toString('base64') },
      data: Buffer.from('"你好"').toString('base64'),
    };
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/codec/encode',
      headers: { authorization: auth.office },
      payload: { payloads: [plain] },
    });
    expect(res.statusCode, res.body).toBe(200);
    const [enc] = res.json().payloads;
    const [back] = await new PayloadCipherCodec(TEST_PAYLOAD_KEY).decode([
      {
        metadata: Object.fromEntries(
          Object.entries(enc.metadata as Record<string, string>).map(([k, v]) => [
            k,
            Buffer.from(v, 'base64'),
          ]),
        ),
        data: Buffer.from(enc.data, 'base64'),
      },
    ]);
    expect(Buffer.from(back?.data ?? new Uint8Array()).toString()).toBe('"你好"');
  });

  it('gives a codec ticket that travels in a header, never in the URL; admins get none; logout revokes it', async () => {
    for (const who of ['req-a', 'admin'] as const) {
      const denied = await app.inject({
        method: 'POST',
        url: '/api/v1/codec/ticket',
        headers: { authorization: auth[who] },
      });
      expect(denied.statusCode, who).toBe(403);
    }

    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'office', password: 'demo1234' },
    });
    const token = `Bearer ${login.json().token}`;
    const issued = await app.inject({
      method: 'POST',
      url: '/api/v1/codec/ticket',
      headers: { authorization: token },
    });
    expect(issued.statusCode, issued.body).toBe(201);
    const { endpoint, ticket } = issued.json();
    const url = new URL(endpoint);
    expect(url.pathname).toBe('/api/v1/codec');
    expect(url.search).toBe('');
    expect(endpoint).not.toContain(ticket);

    // The old ticket-in-path routes are gone.
    const one = payloadsIn(history).map(toCodecJson).slice(0, 3);
    const inPath = await app.inject({
      method: 'POST',
      url: `/api/v1/codec/t/${ticket}/decode`,
      payload: { payloads: one },
    });
    expect(inPath.statusCode).toBe(404);

    // Preflight from another origin allows the credential headers; no cookies involved.
    const preflight = await app.inject({
      method: 'OPTIONS',
      url: '/api/v1/codec/decode',
      headers: {
        origin: 'http://localhost:8233',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace,x-codec-ticket',
      },
    });
    expect(preflight.statusCode).toBeLessThan(300);
    expect(preflight.headers['access-control-allow-origin']).toBe('*');
    expect(String(preflight.headers['access-control-allow-headers'])).toMatch(/x-codec-ticket/i);

    for (const headers of [{ 'x-codec-ticket': ticket }, { authorization: `Bearer ${ticket}` }]) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/codec/decode',
        headers: { origin: 'http://localhost:8233', 'x-namespace': 'default', ...headers },
        payload: { payloads: one },
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe('*');
    }

    const forged = await app.inject({
      method: 'POST',
      url: '/api/v1/codec/decode',
      headers: { 'x-codec-ticket': `${ticket.slice(0, -3)}abc` },
      payload: { payloads: one },
    });
    expect(forged.statusCode).toBe(401);

    await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { authorization: token } });
    const revoked = await app.inject({
      method: 'POST',
      url: '/api/v1/codec/decode',
      headers: { 'x-codec-ticket': ticket },
      payload: { payloads: one },
    });
    expect(revoked.statusCode).toBe(401);
  });
});
