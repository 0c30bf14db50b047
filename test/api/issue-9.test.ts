/**
 * Issue 9, through the real system (API, dev server, worker, database): actions on a finished case,
 * date-times the API cannot represent, the tier a requester may ask for, the requester's clock pause
 * and application number, and the response letter's own number.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, createApiHarness, startBody } from '../support/api.ts';
import { databaseTargets } from '../support/databases.ts';
import { createDevServerEnv } from '../support/temporal.ts';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

type Res = { statusCode: number; body: string; json: () => { errors: { pointer: string }[] } };
const ANSWER = { result: 'consistent', fields: { registeredAddress: '淄博市张店区人民西路 1 号' } };

describe.each(databaseTargets())('issue 9 on $name', (target) => {
  let h: ApiHarness;
  let reqA: string;
  let issA: string;
  let n = 0;
  const key = (what: string) => `i9-${what}-${target.name}-${Date.now()}-${++n}`;
  beforeAll(async () => {
    h = await createApiHarness(env, target);
    [reqA, issA] = await Promise.all([h.login('req-a'), h.login('iss-a')]);
  });
  afterAll(async () => {
    await h?.close();
  });

  const post = (auth: string, url: string, payload: unknown, headers: Record<string, string> = {}) =>
    h.app.inject({
      method: 'POST',
      url,
      headers: { authorization: auth, ...headers },
      payload: payload as Record<string, unknown>,
    });
  const start = async (overrides: Record<string, unknown> = {}) => {
    const res = await post(reqA, '/api/v1/verifications', startBody(overrides), {
      'idempotency-key': key('start'),
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { id: string; docNumber: string };
  };
  const registered = async (overrides: Record<string, unknown> = {}) => {
    const c = await start(overrides);
    const reg = await post(issA, `/api/v1/verifications/${c.id}/register`, {});
    expect(reg.statusCode, reg.body).toBe(200);
    return c;
  };

  describe('item 7: actions on a finished case', () => {
    it('20 parallel responds: exactly one 200, every other one 409, none 404', async () => {
      const c = await registered();
      const answers = await Promise.all(
        Array.from({ length: 20 }, () =>
          post(issA, `/api/v1/verifications/${c.id}/respond`, ANSWER, { 'idempotency-key': key('resp') }),
        ),
      );
      const statuses = answers.map((a) => a.statusCode);
      expect(statuses.filter((s) => s === 200)).toHaveLength(1);
      expect(
        statuses.filter((s) => s === 409),
        statuses.join(','),
      ).toHaveLength(19);
    });

    it('every other action on an answered case is a 409 case_closed', async () => {
      const c = await registered();
      const done = await post(issA, `/api/v1/verifications/${c.id}/respond`, ANSWER);
      expect(done.statusCode, done.body).toBe(200);
      const attempts: [string, string, unknown][] = [
        [issA, 'respond', ANSWER],
        [issA, 'register', {}],
        [reqA, 'urge', {}],
        [reqA, 'withdraw', { reason: '不再需要' }],
        [issA, 'return', { reason: '非本单位职责' }],
        [issA, 'reclassify', { tier: '1d', reason: '需查纸质档案' }],
        [reqA, 'offline', { channel: 'fax', note: '传真核验' }],
        [reqA, 'applicant-proof', { note: '申请人自带证明' }],
        [reqA, 'close', { reason: '办结关闭' }],
        [reqA, 'reroute', { issuingUnit: 'ZB-MZ' }],
      ];
      for (const [auth, action, body] of attempts) {
        const res = await post(auth, `/api/v1/verifications/${c.id}/${action}`, body);
        expect(res.statusCode, `${action}: ${res.body}`).toBe(409);
        expect(res.json().code, action).toBe('case_closed');
      }
    });

    it('a case nobody may see is still a 404', async () => {
      const res = await post(issA, '/api/v1/verifications/case-ZB-RS-nosuchcase/respond', ANSWER);
      expect(res.statusCode).toBe(404);
    });
  });

  describe('item 8: date-times the API cannot represent are refused at the edge, on every route', () => {
    const BAD = [
      '2016-12-31T23:59:60Z', // leap second: RFC 3339 allows it, Date does not
      '2026-02-30T10:00:00Z', // no such day (Date would read 2 March)
      '2023-02-29T10:00:00+08:00', // not a leap year
      '0000-01-01T00:00:00Z', // year 0000
      '0001-01-01T00:30:00+01:00', // before year 1 as an instant
      '2026-01-01T10:00:00+24:00', // offset out of range
      '2026-01-01T24:00:00Z',
    ];
    let office: string;
    let admin: string;
    let liaison: string;
    beforeAll(async () => {
      [office, admin, liaison] = await Promise.all([
        h.login('office'),
        h.login('admin'),
        h.login('iss-a-lia'),
      ]);
    });
    it.each(BAD)('%s → 400 naming the field', async (bad) => {
      const q = encodeURIComponent(bad);
      const cases: [string, () => Promise<Res>, string][] = [
        ...['createdFrom', 'createdTo', 'dueBefore'].map(
          (f) =>
            [
              f,
              async () =>
                h.app.inject({
                  url: `/api/v1/verifications?box=outbox&${f}=${q}`,
                  headers: { authorization: reqA },
                }),
              `/querystring/${f}`,
            ] as [string, () => Promise<Res>, string],
        ),
        ...['from', 'to'].map(
          (f) =>
            [
              `audit ${f}`,
              async () =>
                h.app.inject({ url: `/api/v1/audit?${f}=${q}`, headers: { authorization: office } }),
              `/querystring/${f}`,
            ] as [string, () => Promise<Res>, string],
        ),
        [
          'order dueAt',
          () => post(office, '/api/v1/escalations/nosuch:1/order', { dueAt: bad, note: '限时办结' }),
          '/body/dueAt',
        ],
        [
          'absence startsAt',
          () =>
            post(liaison, '/api/v1/units/ZB-GA/staff/stf-iss-a/absences', {
              startsAt: bad,
              endsAt: '2030-01-01T00:00:00Z',
              reason: '休假',
            }),
          '/body/startsAt',
        ],
        [
          'absence endsAt',
          () =>
            post(liaison, '/api/v1/units/ZB-GA/staff/stf-iss-a/absences', {
              startsAt: '2030-01-01T00:00:00Z',
              endsAt: bad,
              reason: '休假',
            }),
          '/body/endsAt',
        ],
      ];
      for (const [name, send, pointer] of cases) {
        const res = await send();
        expect(res.statusCode, `${name}: ${res.body}`).toBe(400);
        expect(
          res.json().errors.map((e: { pointer: string }) => e.pointer),
          name,
        ).toContain(pointer);
      }
      // A calendar day that does not exist (the date part of the same input).
      const day = bad.slice(0, 10);
      if (day === '2026-02-30' || day === '2023-02-29' || day === '0000-01-01') {
        const res = await h.app.inject({
          method: 'PUT',
          url: `/api/v1/admin/calendar/days/${day}`,
          headers: { authorization: admin },
          payload: { kind: 'off' },
        });
        expect(res.statusCode, res.body).toBe(400);
        expect(res.json().errors[0].pointer).toBe('/params/date');
      }
    });

    it('a valid date-time with an offset still works', async () => {
      const res = await h.app.inject({
        url: `/api/v1/verifications?box=outbox&createdFrom=${encodeURIComponent('2016-12-31T23:59:59+08:00')}`,
        headers: { authorization: reqA },
      });
      expect(res.statusCode, res.body).toBe(200);
    });
  });

  describe('item 15: the tier a requester may ask for (Art. 4)', () => {
    it('a slower tier than the item default needs a reason (422 naming /body/tier)', async () => {
      for (const tier of ['1d', '2d']) {
        const res = await post(reqA, '/api/v1/verifications', startBody({ tier }), {
          'idempotency-key': key('tier'),
        });
        expect(res.statusCode, res.body).toBe(422);
        expect(res.json().errors.map((e: { pointer: string }) => e.pointer)).toEqual(['/body/tier']);
      }
    });

    it('the item tier needs none; a slower one with a reason is stored and shown to the issuer', async () => {
      const plain = await start({ tier: '30m' });
      const withReason = await start({ tier: '1d', tierReason: '申请人户籍迁移多次，需多处核查' });
      const detail = async (id: string) =>
        (await h.app.inject({ url: `/api/v1/verifications/${id}`, headers: { authorization: issA } })).json();
      expect((await detail(plain.id)).tierReason).toBeNull();
      const d = await detail(withReason.id);
      expect(d.case.tier).toBe('1d');
      expect(d.tierReason).toBe('申请人户籍迁移多次，需多处核查');
    });
  });

  describe('item 12: the application number and the clock pause in the case detail', () => {
    it('refuses an application number that is empty, too long or not printable', async () => {
      for (const bad of ['', 'x'.repeat(65), 'RS\t001', ' RS-1', 'RS-1\u0085']) {
        const res = await post(reqA, '/api/v1/verifications', startBody({ applicationNumber: bad }), {
          'idempotency-key': key('appno'),
        });
        expect(res.statusCode, `${JSON.stringify(bad)}: ${res.body}`).toBe(400);
        expect(res.json().errors[0].pointer).toBe('/body/applicationNumber');
      }
    });

    it('shows the application number and the periods with the issuing side, minus the return', async () => {
      const c = await registered({ applicationNumber: '人社办〔2026〕第 000123 号' });
      const ret = await post(issA, `/api/v1/verifications/${c.id}/return`, { reason: '非本单位职责' });
      expect(ret.statusCode, ret.body).toBe(200);
      await new Promise((r) => setTimeout(r, 50));
      const rr = await post(reqA, `/api/v1/verifications/${c.id}/reroute`, { issuingUnit: 'ZB-MZ' });
      expect(rr.statusCode, rr.body).toBe(200);
      const issB = await h.login('iss-b');
      expect((await post(issB, `/api/v1/verifications/${c.id}/register`, {})).statusCode).toBe(200);
      const done = await post(issB, `/api/v1/verifications/${c.id}/respond`, ANSWER);
      expect(done.statusCode, done.body).toBe(200);
      const d = (
        await h.app.inject({ url: `/api/v1/verifications/${c.id}`, headers: { authorization: reqA } })
      ).json();
      expect(d.applicationNumber).toBe('人社办〔2026〕第 000123 号');
      const at = (type: string) => d.timeline.find((e: { type: string }) => e.type === type).at;
      expect(d.verificationWait.intervals).toEqual([
        { from: d.case.createdAt, to: at('returned') },
        { from: d.case.receivedAt, to: d.case.completedAt },
      ]);
      expect(d.verificationWait.totalMinutes).toBeGreaterThanOrEqual(0);
      expect(d.verificationWait.workingMinutes).toBe(d.waitedWorkingMinutes);
    });
  });
  describe('item 16: the response letter has its own number (复函号)', () => {
    it("numbers each answer from the issuing unit's own yearly sequence, not the request's 文号", async () => {
      const answer = async () => {
        const c = await registered();
        const done = await post(issA, `/api/v1/verifications/${c.id}/respond`, ANSWER);
        expect(done.statusCode, done.body).toBe(200);
        const d = (
          await h.app.inject({ url: `/api/v1/verifications/${c.id}`, headers: { authorization: reqA } })
        ).json();
        return { docNumber: c.docNumber, replyNumber: d.replyNumber as string };
      };
      const first = await answer();
      const second = await answer();
      const year = new Date(Date.now() + 8 * 3600_000).getUTCFullYear();
      const pattern = new RegExp(`^淄公复〔${year}〕(\\d+)号$`);
      expect(first.replyNumber).toMatch(pattern);
      expect(first.replyNumber).not.toBe(first.docNumber);
      const n = (r: string) => Number(pattern.exec(r)?.[1]);
      expect(n(second.replyNumber)).toBe(n(first.replyNumber) + 1);
    });
  });
});
