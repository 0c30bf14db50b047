/**
 * Reference data through the API, as the office's administrator keeps it: units and the staffing rule
 * (Art. 6), staff with issued passwords, and the versioned catalog with its JSON Schema templates (Art. 4),
 * which requesters read. On the real dev server and database.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../api/services/audit.ts';
import { auditLog } from '../../db/schema.ts';
import { type ApiHarness, createApiHarness, startBody } from '../support/api.ts';
import { databaseTargets } from '../support/databases.ts';
import { createDevServerEnv, TEST_AUDIT_KEY } from '../support/temporal.ts';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createDevServerEnv();
});
afterAll(async () => {
  await env?.teardown();
});

const catalogBody = (overrides: Record<string, unknown> = {}) => ({
  code: 'SB-101',
  name: '社保参保证明',
  serviceItemName: '职工退休申请',
  serviceItemCode: '3700000000101',
  legalBasis: '《社会保险法》第十六条',
  issuingUnitCodes: ['ZB-GA'],
  defaultTier: '1d',
  exemptionMethod: '部门核验',
  requestSchema: {
    type: 'object',
    required: ['period'],
    additionalProperties: false,
    properties: { period: { type: 'string', title: '参保期间', minLength: 1 } },
  },
  responseSchema: {
    type: 'object',
    required: ['months'],
    additionalProperties: false,
    properties: { months: { type: 'integer', title: '缴费月数', minimum: 0 } },
  },
  ...overrides,
});

describe.each(databaseTargets())('reference data through the API on $name', (target) => {
  let h: ApiHarness;
  let admin: string;
  let reqA: string;
  let issA: string;
  beforeAll(async () => {
    h = await createApiHarness(env, target);
    [admin, reqA, issA] = await Promise.all([h.login('admin'), h.login('req-a'), h.login('iss-a')]);
  });
  afterAll(async () => {
    await h?.close();
  });

  const call = (
    auth: string,
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    payload?: object,
  ) =>
    h.app.inject({
      method,
      url,
      headers: { authorization: auth },
      ...(payload === undefined ? {} : { payload }),
    });

  it('creates and updates units; only administrators may; the staffing report flags a short-staffed unit', async () => {
    const denied = await call(reqA, 'POST', '/api/v1/admin/units', {
      code: 'ZB-JY',
      name: '淄博市教育局',
      docPrefix: '淄教协',
    });
    expect(denied.statusCode).toBe(403);
    expect(denied.headers['content-type']).toContain('application/problem+json');

    const created = await call(admin, 'POST', '/api/v1/admin/units', {
      code: 'ZB-JY',
      name: '淄博市教育局',
      docPrefix: '淄教协',
      canIssue: true,
      contact: '0533-1234567',
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({
      code: 'ZB-JY',
      kind: 'department',
      canRequest: true,
      canIssue: true,
    });

    const again = await call(admin, 'POST', '/api/v1/admin/units', {
      code: 'ZB-JY',
      name: '重复',
      docPrefix: 'X',
    });
    expect(again.statusCode).toBe(409);

    const badParent = await call(admin, 'PATCH', '/api/v1/admin/units/ZB-JY', { parentCode: 'ZB-JY' });
    expect(badParent.statusCode).toBe(422);
    expect(badParent.json().errors[0].pointer).toBe('/body/parentCode');

    const renamed = await call(admin, 'PATCH', '/api/v1/admin/units/ZB-JY', { name: '淄博市教育和体育局' });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect(renamed.json().name).toBe('淄博市教育和体育局');

    const list = await call(admin, 'GET', '/api/v1/admin/units?canIssue=true');
    expect(list.json().items.map((u: { code: string }) => u.code)).toEqual(['ZB-GA', 'ZB-JY', 'ZB-MZ']);

    // Everyone logged in gets the pickers' list.
    const pick = await call(reqA, 'GET', '/api/v1/units?canIssue=true');
    expect(pick.statusCode).toBe(200);
    expect(pick.json().items[0]).toEqual({
      code: 'ZB-GA',
      name: '淄博市公安局',
      canRequest: true,
      canIssue: true,
    });

    const report = await call(admin, 'GET', '/api/v1/admin/staffing-report');
    expect(report.statusCode, report.body).toBe(200);
    const r = report.json();
    // The demo units meet Art. 6; the new unit has nobody yet.
    expect(r.violations.map((v: { code: string }) => v.code)).toEqual(['ZB-JY']);
    expect(r.violations[0]).toMatchObject({ liaisons: 0, agents: 0 });
    expect(r.violations[0].problems.join()).toContain('联络员不足');
    expect((await call(reqA, 'GET', '/api/v1/admin/staffing-report')).statusCode).toBe(403);
  });

  it('creates staff with an issued password that must be changed, lists them without hashes, deactivates', async () => {
    const created = await call(admin, 'POST', '/api/v1/admin/staff', {
      username: 'jy-lia',
      displayName: '钱进',
      unitCode: 'ZB-JY',
      role: 'liaison',
    });
    expect(created.statusCode, created.body).toBe(201);
    const { staff, issuedPassword } = created.json();
    expect(staff.mustChangePassword).toBe(true);
    expect(issuedPassword).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(JSON.stringify(created.json())).not.toContain('argon2');

    const wrongRole = await call(admin, 'POST', '/api/v1/admin/staff', {
      username: 'jy-admin',
      displayName: '错',
      unitCode: 'ZB-JY',
      role: 'admin',
    });
    expect(wrongRole.statusCode).toBe(422);
    const taken = await call(admin, 'POST', '/api/v1/admin/staff', {
      username: 'jy-lia',
      displayName: '重',
      unitCode: 'ZB-JY',
      role: 'agent',
    });
    expect(taken.statusCode).toBe(409);

    // The issued password logs in, but only to change it.
    const token = await h.login('jy-lia', issuedPassword);
    const blocked = await call(token, 'GET', '/api/v1/catalog');
    expect(blocked.statusCode).toBe(403);
    expect(blocked.json().code).toBe('password_change_required');
    const changed = await call(token, 'POST', '/api/v1/auth/password', {
      currentPassword: issuedPassword,
      newPassword: 'Jiaoyu2026abc',
    });
    expect(changed.statusCode, changed.body).toBe(200);
    expect((await call(`Bearer ${changed.json().token}`, 'GET', '/api/v1/catalog')).statusCode).toBe(200);

    for (const [username, displayName] of [
      ['jy-a', '孔明'],
      ['jy-b', '曹真'],
    ])
      expect(
        (
          await call(admin, 'POST', '/api/v1/admin/staff', {
            username,
            displayName,
            unitCode: 'ZB-JY',
            role: 'agent',
          })
        ).statusCode,
      ).toBe(201);
    const report = (await call(admin, 'GET', '/api/v1/admin/staffing-report')).json();
    expect(report.violations).toEqual([]);
    // Without A/B partners (and without a backup liaison) the unit has warnings, not a violation.
    expect([...new Set(report.warnings.map((w: { code: string }) => w.code))]).toEqual(['ZB-JY']);

    const list = await call(admin, 'GET', '/api/v1/admin/staff?unitCode=ZB-JY');
    expect(list.statusCode).toBe(200);
    expect(list.json().items.map((s: { username: string }) => s.username)).toEqual([
      'jy-a',
      'jy-b',
      'jy-lia',
    ]);
    expect(list.body).not.toMatch(/passwordHash|argon2/);

    const off = await call(admin, 'PATCH', `/api/v1/admin/staff/${staff.id}`, { active: false });
    expect(off.statusCode, off.body).toBe(200);
    expect(off.json().staff.active).toBe(false);
    // A deactivated person's token stops working at once.
    expect((await call(`Bearer ${changed.json().token}`, 'GET', '/api/v1/catalog')).statusCode).toBe(401);
    const reportAfter = (await call(admin, 'GET', '/api/v1/admin/staffing-report')).json();
    expect(reportAfter.violations.map((v: { code: string }) => v.code)).toEqual(['ZB-JY']);

    const self = await call(admin, 'PATCH', '/api/v1/admin/staff/stf-admin', { active: false });
    expect(self.statusCode).toBe(422);
  });

  it('versions catalog items: templates are checked, running cases keep their version, deactivation stops new cases', async () => {
    const badSchema = await call(
      admin,
      'POST',
      '/api/v1/admin/catalog',
      catalogBody({
        requestSchema: { type: 'object', properties: { period: { type: 'strin' } } },
      }),
    );
    expect(badSchema.statusCode, badSchema.body).toBe(422);
    expect(badSchema.json().errors[0].pointer).toMatch(/^\/body\/requestSchema\/properties\/period/);

    const notIssuer = await call(
      admin,
      'POST',
      '/api/v1/admin/catalog',
      catalogBody({ issuingUnitCodes: ['ZB-GA', 'ZB-RS', 'ZB-XX'] }),
    );
    expect(notIssuer.statusCode).toBe(422);
    expect(notIssuer.json().errors.map((e: { pointer: string }) => e.pointer)).toEqual([
      '/body/issuingUnitCodes/1',
      '/body/issuingUnitCodes/2',
    ]);

    const created = await call(admin, 'POST', '/api/v1/admin/catalog', catalogBody());
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({
      code: 'SB-101',
      version: 1,
      issuingUnits: [{ code: 'ZB-GA', name: '淄博市公安局' }],
    });
    expect((await call(admin, 'POST', '/api/v1/admin/catalog', catalogBody())).statusCode).toBe(409);
    expect(
      (await call(reqA, 'POST', '/api/v1/admin/catalog', catalogBody({ code: 'SB-102' }))).statusCode,
    ).toBe(403);

    // Requesters see it with its templates.
    const mine = await call(reqA, 'GET', '/api/v1/catalog/SB-101');
    expect(mine.statusCode).toBe(200);
    expect(mine.json().requestSchema.properties.period.title).toBe('参保期间');

    const started = await call(reqA, 'POST', '/api/v1/verifications', {
      ...startBody(),
      catalogCode: 'SB-101',
      fields: { period: '2010年至今' },
    });
    expect(started.statusCode, started.body).toBe(201);
    const caseId = started.json().id;

    // Version 2 asks for another field and answers differently.
    const { code: _code, ...v2 } = catalogBody({
      requestSchema: {
        type: 'object',
        required: ['period', 'employer'],
        additionalProperties: false,
        properties: {
          period: { type: 'string', title: '参保期间', minLength: 1 },
          employer: { type: 'string', title: '参保单位', minLength: 1 },
        },
      },
    });
    const second = await call(admin, 'PUT', '/api/v1/admin/catalog/SB-101', v2);
    expect(second.statusCode, second.body).toBe(201);
    expect(second.json().version).toBe(2);

    const listed = (await call(reqA, 'GET', '/api/v1/catalog')).json();
    expect(listed.items.find((i: { code: string }) => i.code === 'SB-101').version).toBe(2);
    const old = await call(reqA, 'POST', '/api/v1/verifications', {
      ...startBody(),
      catalogCode: 'SB-101',
      fields: { period: '2010年至今' },
    });
    expect(old.statusCode).toBe(422);
    expect(old.json().errors[0].pointer).toBe('/body/fields/employer');

    // The running case keeps version 1: its templates, and its answer is checked against them.
    const detail = (await call(reqA, 'GET', `/api/v1/verifications/${caseId}`)).json();
    expect(Object.keys(detail.templates.request.properties)).toEqual(['period']);
    expect((await call(issA, 'POST', `/api/v1/verifications/${caseId}/register`, {})).statusCode).toBe(200);
    const answered = await call(issA, 'POST', `/api/v1/verifications/${caseId}/respond`, {
      result: 'consistent',
      fields: { months: 180 },
    });
    expect(answered.statusCode, answered.body).toBe(200);

    const versions = (await call(admin, 'GET', '/api/v1/admin/catalog/SB-101')).json();
    expect(versions.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);

    const off = await call(admin, 'POST', '/api/v1/admin/catalog/SB-101/deactivate');
    expect(off.statusCode, off.body).toBe(200);
    expect(off.json().active).toBe(false);
    // Not the older version either: the item is gone from new requests.
    expect((await call(reqA, 'GET', '/api/v1/catalog/SB-101')).statusCode).toBe(404);
    const refused = await call(reqA, 'POST', '/api/v1/verifications', {
      ...startBody(),
      catalogCode: 'SB-101',
      fields: { period: 'x', employer: 'y' },
    });
    expect(refused.statusCode).toBe(422);
    const adminList = (await call(admin, 'GET', '/api/v1/admin/catalog')).json();
    expect(adminList.items.find((i: { code: string }) => i.code === 'SB-101')).toMatchObject({
      active: false,
      versions: 2,
    });
    expect((await call(admin, 'POST', '/api/v1/admin/catalog/SB-101/activate')).json().version).toBe(2);
  });

  it('audits every reference-data write, refused ones too, in an intact chain', async () => {
    const rows = await h.database.db.select().from(auditLog);
    const actions = rows.map((r) => `${r.action}:${r.outcome}`);
    for (const a of [
      'admin.unit.create:allowed',
      'admin.unit.create:denied',
      'admin.unit.update:allowed',
      'admin.staff.create:allowed',
      'admin.staff.update:allowed',
      'admin.catalog.create:denied',
      'admin.catalog.version:allowed',
      'admin.catalog.deactivate:allowed',
    ])
      expect(actions).toContain(a);
    expect(JSON.stringify(rows)).not.toMatch(/issuedPassword|argon2/);
    expect((await verifyAuditChain(h.database.db, { key: TEST_AUDIT_KEY })).ok).toBe(true);
  });
});
