/**
 * Issue 14 item 6, the lists' server side: search filters (文号 and 核验对象 in part, 事项, period, status) narrow
 * a box and its total; a bad filter is a 400 naming it; a returned case leaves the issuer's open list (待办) and
 * counts as done (已办) there while it stays open for the requester; tab counts; the assignee's name (经办人) on
 * each row; the export of the current list as XLSX (read back with exceljs: Chinese headers, Beijing times,
 * Chinese labels, the list's filters and order), only the unit's own cases, audited. Rows are written straight
 * into the read model; no Temporal.
 */

import { and, eq } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../api/app.ts';
import { auditLog, cases } from '../../db/schema.ts';
import { demoStaffId } from '../../db/seed.ts';
import { buildAppWithoutTemporal } from '../support/app-without-temporal.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';

interface Row {
  id: string;
  docNumber: string;
  subject: string;
  status: string;
  assigneeName?: string | null;
  catalogCode: string;
}

describe.each(databaseTargets())('list filters, tab counts and export on $name', (target) => {
  let database: TestDatabase;
  let app: App;
  const token: Record<string, string> = {};
  // 2026-12-01 10:00 Beijing, and one day apart after it.
  const base = Date.parse('2026-12-01T02:00:00Z');
  const day = 86_400_000;

  async function login(username: string) {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username, password: 'demo1234' },
      remoteAddress: `10.4.0.${Object.keys(token).length + 1}`,
    });
    expect(res.statusCode, res.body).toBe(200);
    token[username] = `Bearer ${res.json().token}`;
  }
  const get = (username: string, url: string) =>
    app.inject({ url, headers: { authorization: token[username] as string } });
  async function list(username: string, query: string) {
    const res = await get(username, `/api/v1/verifications?${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { items: Row[]; total: number; nextCursor: string | null };
  }

  // Six cases from ZB-RS to ZB-GA, one to ZB-MZ; statuses, subjects, items and days differ.
  const spec = [
    { n: 1, status: 'awaiting_registration', subject: '张*（3703**********1234）', code: 'HJ-001', d: 0 },
    { n: 2, status: 'registered', subject: '李*（3703**********5678）', code: 'HJ-001', d: 1, who: 'iss-a' },
    { n: 3, status: 'registered', subject: '张*（3703**********9012）', code: 'WF-002', d: 2, who: 'iss-a2' },
    { n: 4, status: 'returned', subject: '王*（3703**********3456）', code: 'HJ-001', d: 3 },
    { n: 5, status: 'answered', subject: '赵*（3703**********7890）', code: 'WF-002', d: 4, who: 'iss-a' },
    { n: 6, status: 'awaiting_registration', subject: '孙*（3703**********2222）', code: 'HJ-001', d: 5 },
  ];

  beforeAll(async () => {
    database = await target.open();
    app = await buildAppWithoutTemporal(database);
    const rows = spec.map((s) => {
      const at = new Date(base + s.d * day);
      return {
        id: `lx-${s.n}`,
        docNumber: `淄人协〔2026〕${100 + s.n}号`,
        requestingUnit: 'ZB-RS',
        issuingUnit: s.n === 6 ? 'ZB-MZ' : 'ZB-GA',
        catalogCode: s.code,
        catalogVersion: 1,
        subjectKind: 'person',
        subjectMasked: s.subject,
        subjectIdHash: `lx${s.n}`,
        purpose: '测试',
        tier: '1d' as const,
        status: s.status,
        receivedAt: at,
        dueAt: new Date(at.getTime() + day),
        assigneeId: s.who ? demoStaffId(s.who) : null,
        registeredAt: s.who ? at : null,
        completedAt: s.status === 'answered' ? new Date(at.getTime() + 3_600_000) : null,
        result: s.status === 'answered' ? 'consistent' : null,
        escalationLevel: 0,
        createdBy: 'stf-req-a',
        createdAt: at,
        lastSeq: 1,
        content: {},
        updatedAt: at,
      };
    });
    await database.db.insert(cases).values(rows);
    for (const u of ['req-a', 'iss-a', 'iss-b', 'admin']) await login(u);
  });
  afterAll(async () => {
    await app?.close();
    await database?.dispose();
  });

  it('narrows a box by 文号 and 核验对象 in part, 事项, period and status, with the total', async () => {
    const all = await list('req-a', 'box=outbox');
    expect(all.total).toBe(6);
    expect(
      (await list('req-a', `box=outbox&docNumber=${encodeURIComponent('103')}`)).items.map((r) => r.id),
    ).toEqual(['lx-3']);
    const zhang = await list('req-a', `box=outbox&subject=${encodeURIComponent('张*')}`);
    expect(zhang.items.map((r) => r.id)).toEqual(['lx-1', 'lx-3']);
    expect(zhang.total).toBe(2);
    // The last four digits, as the masked subject shows them.
    expect((await list('req-a', 'box=outbox&subject=7890')).items.map((r) => r.id)).toEqual(['lx-5']);
    // A `%` typed in the box matches a `%`, not everything.
    expect((await list('req-a', `box=outbox&subject=${encodeURIComponent('%')}`)).total).toBe(0);
    expect((await list('req-a', 'box=outbox&catalogCode=WF-002')).items.map((r) => r.id)).toEqual([
      'lx-3',
      'lx-5',
    ]);
    const from = new Date(base + 1 * day).toISOString();
    const to = new Date(base + 3 * day).toISOString();
    const period = await list(
      'req-a',
      `box=outbox&createdFrom=${encodeURIComponent(from)}&createdTo=${encodeURIComponent(to)}`,
    );
    expect(period.items.map((r) => r.id)).toEqual(['lx-2', 'lx-3']);
    const both = await list('req-a', 'box=outbox&status=registered,answered&catalogCode=WF-002&limit=1');
    expect(both.items.map((r) => r.id)).toEqual(['lx-3']);
    expect(both.total).toBe(2); // every page, not this one
    expect(both.nextCursor).not.toBeNull();
  });

  it('refuses a bad filter naming it', async () => {
    const bad = await get('req-a', '/api/v1/verifications?box=outbox&status=registered,bogus');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].pointer).toBe('/querystring/status');
    const reversed = await get(
      'req-a',
      `/api/v1/verifications?box=outbox&createdFrom=${encodeURIComponent(new Date(base + day).toISOString())}&createdTo=${encodeURIComponent(new Date(base).toISOString())}`,
    );
    expect(reversed.statusCode).toBe(400);
    expect(reversed.body).toContain('/querystring/createdTo');
    const unknown = await get('req-a', '/api/v1/verifications?box=outbox&who=me');
    expect(unknown.statusCode).toBe(400);
    const exportBad = await get('req-a', '/api/v1/verifications/export.xlsx?box=outbox&status=nope');
    expect(exportBad.statusCode).toBe(400);
    expect(exportBad.body).toContain('/querystring/status');
  });

  it("a returned case leaves the issuer's open list and counts as done there; the requester still has it open", async () => {
    const open = await list('iss-a', 'box=inbox&open=true');
    expect(open.items.map((r) => r.id)).toEqual(['lx-1', 'lx-2', 'lx-3']);
    const done = await list('iss-a', 'box=inbox&done=true');
    expect(done.items.map((r) => r.id)).toEqual(['lx-4', 'lx-5']);
    expect((await list('req-a', 'box=outbox&open=true')).items.map((r) => r.id)).toEqual([
      'lx-1',
      'lx-2',
      'lx-3',
      'lx-4',
      'lx-6',
    ]);
  });

  it('counts the tabs with the search filters applied', async () => {
    const counts = await get('iss-a', '/api/v1/verifications/counts?box=inbox');
    expect(counts.statusCode, counts.body).toBe(200);
    expect(counts.json()).toEqual({ open: 3, unclaimed: 1, mine: 1, done: 2, all: 5 });
    const hj = await get('iss-a', '/api/v1/verifications/counts?box=inbox&catalogCode=HJ-001');
    expect(hj.json()).toEqual({ open: 2, unclaimed: 1, mine: 1, done: 1, all: 3 });
    const req = await get('req-a', '/api/v1/verifications/counts?box=outbox');
    expect(req.json()).toMatchObject({ open: 5, done: 1, all: 6 });
    expect((await get('admin', '/api/v1/verifications/counts?box=inbox')).statusCode).toBe(403);
  });

  it('names the assignee (经办人) on each row', async () => {
    const rows = (await list('iss-a', 'box=inbox')).items;
    const by = Object.fromEntries(rows.map((r) => [r.id, r.assigneeName]));
    expect(by).toEqual({ 'lx-1': null, 'lx-2': '郑伟', 'lx-3': '冯雪', 'lx-4': null, 'lx-5': '郑伟' });
  });

  it('exports the current list as XLSX: its filters and order, Chinese headers, Beijing times, labels; audited', async () => {
    const res = await get('iss-a', `/api/v1/verifications/export.xlsx?box=inbox&catalogCode=HJ-001`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toContain('spreadsheetml');
    expect(decodeURIComponent(String(res.headers['content-disposition']))).toContain('协查列表-待办任务-');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(res.rawPayload as unknown as ExcelJS.Buffer);
    const ws = wb.getWorksheet('待办任务');
    if (!ws) throw new Error('no sheet 待办任务');
    const values = (n: number) => (ws.getRow(n).values as unknown[]).slice(1);
    expect(values(1)).toEqual([
      '文号',
      '事项',
      '核验对象',
      '需求单位',
      '出具单位',
      '状态',
      '时限档次',
      '收到时间',
      '办理时限',
      '督办',
      '经办人',
      '结果',
      '办结时间',
      '是否超时',
    ]);
    expect(ws.actualRowCount).toBe(4); // header + lx-1, lx-2, lx-4 (HJ-001 at ZB-GA)
    const docs = [2, 3, 4].map((n) => values(n)[0]);
    expect(docs).toEqual(['淄人协〔2026〕101号', '淄人协〔2026〕102号', '淄人协〔2026〕104号']);
    const second = values(3);
    expect(second[2]).toBe('李*（3703**********5678）');
    expect(second[3]).toBe('淄博市人力资源和社会保障局');
    expect(second[4]).toBe('淄博市公安局');
    expect(second[5]).toBe('办理中');
    expect(second[6]).toBe('1 个工作日');
    expect(second[7]).toBe('2026年12月2日 10:00'); // received 02:00Z = 10:00 Beijing
    expect(second[10]).toBe('郑伟');
    expect(values(4)[5]).toBe('已退回');
    const info = wb.getWorksheet('说明');
    expect(JSON.stringify(info?.getSheetValues())).toContain('事项：HJ-001');

    const [audit] = await database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'cases.export'), eq(auditLog.actorId, demoStaffId('iss-a'))));
    expect(audit).toMatchObject({ outcome: 'allowed', actorUnit: 'ZB-GA' });
    expect(audit?.detail).toMatchObject({ box: 'inbox', catalogCode: 'HJ-001', rows: 3 });
  });

  it("exports only what the unit may list: another unit's cases never, an administrator nothing (audited)", async () => {
    const other = await get('iss-b', '/api/v1/verifications/export.xlsx?box=inbox');
    expect(other.statusCode).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(other.rawPayload as unknown as ExcelJS.Buffer);
    const ws = wb.getWorksheet('待办任务');
    if (!ws) throw new Error('no sheet 待办任务');
    expect(ws.actualRowCount).toBe(2);
    expect((ws.getRow(2).values as unknown[])[1]).toBe('淄人协〔2026〕106号');

    const admin = await get('admin', '/api/v1/verifications/export.xlsx?box=inbox');
    expect(admin.statusCode).toBe(403);
    const denied = await database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'cases.export'), eq(auditLog.actorId, demoStaffId('admin'))));
    expect(denied.map((d) => d.outcome)).toEqual(['denied']);
  });
});
