/**
 * Issue 11, the lists at scale: pages follow the (due_at, id) keyset, so paging through a box returns
 * every row once, in order, also when many rows share a deadline; the escalation list is paged and
 * filtered by unit, level and period. Rows are written straight into the read model; no Temporal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../api/app.ts';
import { cases, escalations } from '../../db/schema.ts';
import { buildAppWithoutTemporal } from '../support/app-without-temporal.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';

describe.each(databaseTargets())('lists on $name', (target) => {
  let database: TestDatabase;
  let app: App;
  const token: Record<string, string> = {};
  const base = Date.parse('2026-12-01T02:00:00Z');

  async function login(username: string) {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username, password: 'demo1234' },
      remoteAddress: `10.3.0.${Object.keys(token).length + 1}`,
    });
    token[username] = `Bearer ${res.json().token}`;
  }

  async function pages(username: string, url: string, limit: number): Promise<string[][]> {
    const out: string[][] = [];
    let cursor: string | null = null;
    do {
      const q: string = `${url}${url.includes('?') ? '&' : '?'}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await app.inject({ url: q, headers: { authorization: token[username] } });
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json() as { items: { id: string }[]; nextCursor: string | null };
      out.push(body.items.map((i) => i.id));
      cursor = body.nextCursor;
    } while (cursor && out.length < 50);
    return out;
  }

  beforeAll(async () => {
    database = await target.open();
    app = await buildAppWithoutTemporal(database);
    // 23 cases from ZB-RS: to ZB-GA (odd) and ZB-MZ (even); deadlines in groups of 4 sharing one instant.
    const rows = Array.from({ length: 23 }, (_, i) => {
      const at = new Date(base + Math.floor(i / 4) * 3_600_000);
      return {
        id: `list-${String(i).padStart(2, '0')}`,
        docNumber: `LIST-${i}`,
        requestingUnit: 'ZB-RS',
        issuingUnit: i % 2 ? 'ZB-GA' : 'ZB-MZ',
        catalogCode: 'HJ-001',
        catalogVersion: 1,
        subjectKind: 'person',
        subjectMasked: '3703**********1234',
        subjectIdHash: `h${i}`,
        purpose: '测试',
        tier: '1d' as const,
        status: i % 3 ? 'awaiting_registration' : 'answered',
        receivedAt: at,
        dueAt: at,
        escalationLevel: i < 9 ? 1 + (i % 2) : 0,
        createdBy: 'stf-req-a',
        createdAt: at,
        lastSeq: 1,
        content: {},
        updatedAt: at,
      };
    });
    await database.db.insert(cases).values(rows);
    await database.db.insert(escalations).values(
      rows
        .filter((r) => r.escalationLevel > 0)
        .map((r, n) => ({
          id: `${r.id}:1`,
          caseId: r.id,
          level: r.escalationLevel,
          status: 'open',
          issuingUnit: r.issuingUnit,
          requestingUnit: r.requestingUnit,
          // Three escalations share each opening instant: the keyset must break the tie by id.
          openedAt: new Date(base + Math.floor(n / 3) * 86_400_000),
          missedDueAt: r.dueAt,
          routingNo: 1,
          lastSeq: 1,
        })),
    );
    for (const u of ['req-a', 'iss-a', 'office']) await login(u);
  });
  afterAll(async () => {
    await app?.close();
    await database?.dispose();
  });

  it('pages through the outbox: every case once, in deadline order, ties broken by id', async () => {
    const got = await pages('req-a', '/api/v1/verifications?box=outbox', 5);
    expect(got.map((p) => p.length)).toEqual([5, 5, 5, 5, 3]);
    const all = got.flat();
    expect(all).toEqual(Array.from({ length: 23 }, (_, i) => `list-${String(i).padStart(2, '0')}`));
  });

  it("pages through an issuer's open inbox without the other unit's or closed cases", async () => {
    const all = (await pages('iss-a', '/api/v1/verifications?box=inbox&open=true', 4)).flat();
    const expected = Array.from({ length: 23 }, (_, i) => i)
      .filter((i) => i % 2 === 1 && i % 3 !== 0)
      .map((i) => `list-${String(i).padStart(2, '0')}`);
    expect(all).toEqual(expected);
  });

  it('pages the escalation list and filters it by unit, level and opening period', async () => {
    const all = (await pages('office', '/api/v1/escalations', 2)).flat();
    expect(all).toHaveLength(9);
    expect(new Set(all).size).toBe(9);
    const byUnit = (await pages('office', '/api/v1/escalations?unit=ZB-GA', 50)).flat();
    expect(byUnit).toEqual(['list-01:1', 'list-03:1', 'list-05:1', 'list-07:1']);
    const level2 = (await pages('office', '/api/v1/escalations?level=2', 50)).flat();
    expect(level2).toEqual(byUnit); // odd cases are level 2 here
    const from = new Date(base + 86_400_000).toISOString();
    const to = new Date(base + 2 * 86_400_000).toISOString();
    const period = (
      await pages(
        'office',
        `/api/v1/escalations?openedFrom=${encodeURIComponent(from)}&openedTo=${encodeURIComponent(to)}`,
        50,
      )
    ).flat();
    expect(period).toEqual(['list-03:1', 'list-04:1', 'list-05:1']);
  });

  it('refuses a bad filter naming it, and the list to anyone but the office', async () => {
    const bad = await app.inject({
      url: '/api/v1/escalations?level=3',
      headers: { authorization: token.office },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('/querystring/level');
    const other = await app.inject({
      url: '/api/v1/escalations',
      headers: { authorization: token['iss-a'] },
    });
    expect(other.statusCode).toBe(403);
  });
});
