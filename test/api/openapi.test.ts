/**
 * The OpenAPI document (`/openapi.json`) describes the whole API: it is structurally valid OpenAPI 3.0
 * (every $ref resolves, every schema compiles, every path parameter is declared), every API route is in
 * it, and every operation declares the statuses it can answer — 429 everywhere, 401/403 behind login,
 * 400/413/415 with a body, 404 where it names a resource. `/docs` serves the browsable UI.
 * The schemathesis run of scripts/fuzz-api.sh then checks the answers against these declarations.
 */
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCalendarSource } from '../../activities/calendar-source.ts';
import { type App, buildApp } from '../../api/app.ts';
import type { CaseGateway } from '../../api/services/case-gateway.ts';
import { TEST_JWT_SECRET } from '../support/api.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';
import { silentLog, TEST_AUDIT_KEY, TEST_CONTENT_CIPHER, TEST_SUBJECT_KEY } from '../support/temporal.ts';

type Json = Record<string, unknown>;
interface Operation {
  parameters?: { name: string; in: string; required?: boolean; schema?: Json }[];
  requestBody?: { content: Record<string, { schema: Json }> };
  responses: Record<string, { description?: string; content?: Record<string, { schema: Json }> }>;
  security?: unknown[];
}
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'] as const;

let database: TestDatabase;
let app: App;
let spec: { openapi: string; info: Json; paths: Record<string, Record<string, Operation>>; components: Json };
const operations: { method: string; path: string; op: Operation }[] = [];

/** The routes Fastify serves, as `METHOD /path/{param}`, read from its route tree. */
function servedRoutes(): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = (m[1] ?? '').length / 4;
    stack.length = depth;
    stack.push(m[2] ?? '');
    const path = stack.join('').replace(/:(\w+)/g, '{$1}');
    for (const method of (m[3] ?? '').split(', ').filter(Boolean)) out.push(`${method} ${path}`);
  }
  return out;
}

beforeAll(async () => {
  const [target] = databaseTargets();
  if (!target) throw new Error('no database target');
  database = await target.open();
  app = await buildApp({
    log: silentLog,
    db: database.db,
    gateway: {} as CaseGateway,
    jwtSecret: TEST_JWT_SECRET,
    subjectKey: TEST_SUBJECT_KEY,
    auditKey: TEST_AUDIT_KEY,
    contentCipher: TEST_CONTENT_CIPHER,
    calendar: createCalendarSource(database.db),
    readiness: { database: async () => {}, pendingMigrations: async () => 0, temporal: async () => {} },
  });
  await app.ready();
  const res = await app.inject({ url: '/openapi.json' });
  expect(res.statusCode).toBe(200);
  spec = res.json();
  for (const [path, item] of Object.entries(spec.paths))
    for (const method of METHODS)
      if (item[method]) operations.push({ method, path, op: item[method] as Operation });
});
afterAll(async () => {
  await app?.close();
  await database?.dispose();
});

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.0 with info, paths and the Problem schema', () => {
    expect(spec.openapi).toMatch(/^3\.0\.\d+$/);
    expect(spec.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(Object.keys(spec.paths).length).toBeGreaterThan(20);
    expect((spec.components.schemas as Json).Problem).toBeDefined();
    expect((spec.components.securitySchemes as Json).bearer).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
  });

  it('resolves every $ref, and every schema in it compiles', () => {
    const text = JSON.stringify(spec);
    for (const [, ref] of text.matchAll(/"\$ref":"([^"]+)"/g)) {
      expect(ref, 'local references only').toMatch(/^#\//);
      let node: unknown = spec;
      for (const part of (ref as string).slice(2).split('/')) node = (node as Json | undefined)?.[part];
      expect(node, `${ref} resolves`).toBeDefined();
    }
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    ajv.addSchema({ components: spec.components }, 'spec');
    const compile = (schema: Json, where: string) => {
      const rebased = JSON.parse(JSON.stringify(schema).replaceAll('"$ref":"#/', '"$ref":"spec#/'));
      expect(() => ajv.compile(rebased), where).not.toThrow();
    };
    for (const { method, path, op } of operations) {
      for (const p of op.parameters ?? []) if (p.schema) compile(p.schema, `${method} ${path} ${p.name}`);
      for (const [type, c] of Object.entries(op.requestBody?.content ?? {}))
        compile(c.schema, `${method} ${path} ${type}`);
      for (const [status, r] of Object.entries(op.responses))
        for (const c of Object.values(r.content ?? {})) compile(c.schema, `${method} ${path} ${status}`);
    }
  });

  it('declares each path parameter, required, and every response has a description', () => {
    for (const { method, path, op } of operations) {
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const declared = (op.parameters ?? []).filter((p) => p.in === 'path');
      expect(declared.map((p) => p.name).sort(), `${method} ${path}`).toEqual(inPath.sort());
      expect(declared.every((p) => p.required === true)).toBe(true);
      for (const [status, r] of Object.entries(op.responses)) {
        expect(status, `${method} ${path}`).toMatch(/^[1-5]\d\d$/);
        expect(typeof r.description, `${method} ${path} ${status}`).toBe('string');
      }
    }
  });

  it('contains every API route Fastify serves', () => {
    const documented = new Set(operations.map((o) => `${o.method.toUpperCase()} ${o.path}`));
    const served = servedRoutes().filter(
      (r) =>
        !r.startsWith('HEAD ') &&
        !r.startsWith('OPTIONS ') &&
        (r.includes(' /api/') || / \/(healthz|readyz)$/.test(r)),
    );
    expect(served.length).toBeGreaterThan(20);
    expect(served.filter((r) => !documented.has(r))).toEqual([]);
  });

  it('declares, for every operation, the statuses it can answer', () => {
    const missing: string[] = [];
    const need = (where: string, op: Operation, ...codes: number[]) => {
      for (const c of codes) if (!op.responses[String(c)]) missing.push(`${where}: ${c}`);
    };
    for (const { method, path, op } of operations) {
      const where = `${method.toUpperCase()} ${path}`;
      const success = Object.keys(op.responses).filter((s) => s.startsWith('2'));
      expect(success.length, `${where} declares a success`).toBeGreaterThan(0);
      need(where, op, 429);
      if (!path.startsWith('/api/')) continue;
      const isPublic = !op.security?.length;
      if (!isPublic) need(where, op, 401, 403);
      if (op.requestBody) need(where, op, 400, 413, 415);
      if (op.parameters?.length) need(where, op, 400);
      // A case or escalation named in the path can be missing (or hidden: isolation answers 404).
      if (/^\/api\/v1\/(verifications|escalations)\/\{id\}/.test(path)) need(where, op, 404);
      // Problems are problems.
      for (const [status, r] of Object.entries(op.responses))
        if (Number(status) >= 400)
          expect(JSON.stringify(r.content ?? {}), `${where} ${status}`).toContain('Problem');
    }
    expect(missing).toEqual([]);
  });

  it('declares the statuses the case routes are known to answer (409 for state, 422 for content)', () => {
    const op = (m: string, p: string) => spec.paths[p]?.[m] as Operation;
    for (const a of ['register', 'respond', 'return', 'reroute', 'withdraw', 'reassign'])
      expect(Object.keys(op('post', `/api/v1/verifications/{id}/${a}`).responses)).toEqual(
        expect.arrayContaining(['200', '400', '401', '403', '404', '409', '413', '415', '422', '429']),
      );
    expect(Object.keys(op('post', '/api/v1/verifications').responses)).toEqual(
      expect.arrayContaining(['200', '201', '400', '401', '403', '409', '413', '415', '422', '429']),
    );
    expect(Object.keys(op('get', '/api/v1/verifications/{id}').responses)).toEqual(
      expect.arrayContaining(['200', '401', '404', '422', '429']),
    );
  });
});

describe('/docs', () => {
  it('serves the browsable UI, which loads this document', async () => {
    const res = await app.inject({ url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toMatch(/swagger-ui/i);
    const init = await app.inject({ url: '/docs/static/swagger-initializer.js' });
    expect(init.statusCode).toBe(200);
    const json = await app.inject({ url: '/docs/json' });
    expect(json.statusCode).toBe(200);
    expect(json.json().openapi).toBe(spec.openapi);
  });
});
