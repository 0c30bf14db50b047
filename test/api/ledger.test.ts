/**
 * The requesting unit's ledger (台账, Art. 8) and applicant-supplied proof (Art. 9) through the API: ledger
 * entries after any answer (a `not_found` answer is exactly when Art. 8 ¶3's on-site check applies) and
 * after a case ended without one; the unit's cross-case ledger list with filters, keyset paging, unit
 * isolation and audited reads; the applicant's proof file attached to the case and downloadable after.
 * On the real dev server and database.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../../db/schema.ts';
import { type ApiHarness, createApiHarness, startBody } from '../support/api.ts';
import { databaseTargets } from '../support/databases.ts';
import { createDevServerEnv } from '../support/temporal.ts';

const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.alloc(64, 7),
]);

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

describe.each(databaseTargets())('ledger and applicant proof on $name', (target) => {
  let h: ApiHarness;
  const auth: Record<string, string> = {};
  const run = `${target.name}-${Date.now()}`;
  beforeAll(async () => {
    h = await createApiHarness(env, target);
    for (const u of ['req-a', 'req-b', 'iss-a', 'iss-b', 'office', 'admin']) auth[u] = await h.login(u);
  });
  afterAll(async () => {
    await h?.close();
  });

  const call = (who: string, method: 'GET' | 'POST', url: string, payload?: object) =>
    h.app.inject({
      method,
      url,
      headers: { authorization: auth[who] ?? '' },
      ...(payload === undefined ? {} : { payload }),
    });

  async function start(key: string, overrides: Record<string, unknown> = {}): Promise<string> {
    const started = await h.app.inject({
      method: 'POST',
      url: '/api/v1/verifications',
      headers: { authorization: auth['req-a'] ?? '', 'idempotency-key': `ledger-${run}-${key}` },
      payload: startBody(overrides),
    });
    expect(started.statusCode, started.body).toBe(201);
    return started.json().id;
  }

  async function answered(key: string, result: string): Promise<string> {
    const id = await start(key);
    expect((await call('iss-a', 'POST', `/api/v1/verifications/${id}/register`, {})).statusCode).toBe(200);
    const res = await call('iss-a', 'POST', `/api/v1/verifications/${id}/respond`, {
      result,
      fields: { registeredAddress: '淄博市张店区人民西路 1 号' },
    });
    expect(res.statusCode, res.body).toBe(200);
    return id;
  }

  async function upload(who: string, name: string): Promise<string> {
    const res = await h.app.inject({
      method: 'POST',
      url: `/api/v1/attachments?filename=${encodeURIComponent(name)}`,
      headers: { authorization: auth[who] ?? '', 'content-type': 'image/png' },
      payload: PNG,
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().id;
  }

  const ledger = (id: string, kind: string, note: string) =>
    call('req-a', 'POST', `/api/v1/verifications/${id}/ledger`, { kind, note });

  let notFoundCase: string;
  let closedCase: string;
  let consistentCase: string;

  it('accepts ledger entries after any answer and after a case ended without one (Art. 8 ¶3), not while open', async () => {
    notFoundCase = await answered('not-found', 'not_found');
    const onSite = await ledger(notFoundCase, 'on_site_check', '部门核验查无记录，已上门实地核查');
    expect(onSite.statusCode, onSite.body).toBe(201);

    consistentCase = await answered('consistent', 'consistent');
    expect((await ledger(consistentCase, 'note', '申请人另交了户口簿复印件')).statusCode).toBe(201);

    // Returned by the issuing unit, then closed by the requester: department verification failed.
    closedCase = await start('returned');
    const ret = await call('iss-a', 'POST', `/api/v1/verifications/${closedCase}/return`, {
      reason: '不属于本单位职责',
    });
    expect(ret.statusCode, ret.body).toBe(200);
    const returnedOnly = await ledger(closedCase, 'on_site_check', '等待改派时');
    expect(returnedOnly.statusCode).toBe(409);
    const closed = await call('req-a', 'POST', `/api/v1/verifications/${closedCase}/close`, {
      reason: '无其他出具单位，改为实地核查',
    });
    expect(closed.statusCode, closed.body).toBe(200);
    expect((await ledger(closedCase, 'on_site_check', '实地核查：地址属实')).statusCode).toBe(201);

    const open = await start('open');
    const refused = await ledger(open, 'note', '尚未反馈');
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('ledger_not_applicable');
  });

  it('lists the unit’s ledger across cases with filters and keyset paging; isolated by unit; audited', async () => {
    const all = await call('req-a', 'GET', '/api/v1/ledger?limit=200');
    expect(all.statusCode, all.body).toBe(200);
    const items = all.json().items as {
      id: string;
      caseId: string;
      kind: string;
      at: string;
      subject: string;
    }[];
    const mine = items.filter((i) => [notFoundCase, closedCase, consistentCase].includes(i.caseId));
    expect(mine).toHaveLength(3);
    expect(items[0]).toMatchObject({ caseId: closedCase, kind: 'on_site_check', issuingUnit: 'ZB-GA' });
    expect(items[0]?.subject).toContain('*');
    const times = items.map((i) => i.at);
    expect([...times].sort().reverse()).toEqual(times);

    const onSite = (await call('req-a', 'GET', '/api/v1/ledger?kind=on_site_check&limit=200')).json();
    expect(onSite.items.every((i: { kind: string }) => i.kind === 'on_site_check')).toBe(true);
    expect(onSite.items.map((i: { caseId: string }) => i.caseId)).toEqual(
      expect.arrayContaining([notFoundCase, closedCase]),
    );
    expect((await call('req-a', 'GET', '/api/v1/ledger?catalogCode=NOPE')).json().items).toEqual([]);
    expect((await call('req-a', 'GET', '/api/v1/ledger?issuingUnit=ZB-MZ')).json().items).toEqual([]);
    const future = new Date(Date.now() + 86400_000).toISOString();
    expect((await call('req-a', 'GET', `/api/v1/ledger?from=${future}`)).json().items).toEqual([]);
    const backwards = await call('req-a', 'GET', `/api/v1/ledger?from=${future}&to=${items[0]?.at}`);
    expect(backwards.statusCode).toBe(422);

    // One entry per page, following the cursor: every entry exactly once, in the same order.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/api/v1/ledger?limit=1${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await call('req-a', 'GET', url);
      expect(page.statusCode, page.body).toBe(200);
      seen.push(...page.json().items.map((i: { id: string }) => i.id));
      cursor = page.json().nextCursor;
    } while (cursor);
    expect(seen).toEqual(items.map((i) => i.id));

    const bad = await call('req-a', 'GET', '/api/v1/ledger?cursor=not-a-cursor');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].pointer).toBe('/querystring/cursor');

    // Another requesting unit sees none of them; the office and administrators have no requesting unit.
    const other = (await call('req-b', 'GET', '/api/v1/ledger?limit=200')).json();
    expect(other.items.filter((i: { caseId: string }) => mine.some((m) => m.caseId === i.caseId))).toEqual(
      [],
    );
    expect((await call('office', 'GET', '/api/v1/ledger')).statusCode).toBe(403);
    expect((await call('admin', 'GET', '/api/v1/ledger')).statusCode).toBe(403);

    const reads = await h.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'ledger.read'), eq(auditLog.caseId, notFoundCase)));
    expect(reads.length).toBeGreaterThan(0);
    expect(reads[0]).toMatchObject({ actorUnit: 'ZB-RS', outcome: 'allowed', purpose: '社会保险参保登记' });
  });

  it('attaches the applicant’s proof file (Art. 9), downloadable afterwards; refuses a file not the unit’s own', async () => {
    const id = await start('proof');
    const foreign = await upload('iss-a', '户口簿.png');
    const refused = await call('req-a', 'POST', `/api/v1/verifications/${id}/applicant-proof`, {
      note: '申请人自行提交户口簿',
      attachments: [foreign],
    });
    expect(refused.statusCode, refused.body).toBe(422);
    expect(refused.json().errors[0].pointer).toBe('/body/attachments/0');

    const proof = await upload('req-a', '户口簿扫描件.png');
    const done = await call('req-a', 'POST', `/api/v1/verifications/${id}/applicant-proof`, {
      note: '申请人自行提交户口簿',
      attachments: [proof],
    });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json().status).toBe('applicant_supplied');

    const detail = (await call('req-a', 'GET', `/api/v1/verifications/${id}`)).json();
    expect(detail.attachments.map((a: { id: string }) => a.id)).toEqual([proof]);
    const download = await call('req-a', 'GET', `/api/v1/attachments/${proof}`);
    expect(download.statusCode).toBe(200);
    expect(download.rawPayload.equals(PNG)).toBe(true);
    // A file bound to this case cannot be cited by another one.
    const other = await start('proof-2');
    const reused = await call('req-a', 'POST', `/api/v1/verifications/${other}/applicant-proof`, {
      note: '申请人自行提交户口簿',
      attachments: [proof],
    });
    expect(reused.statusCode).toBe(422);
    expect(reused.json().errors[0].pointer).toBe('/body/attachments/0');
  });
});
