/**
 * Issue 9, input at the edges: a cursor the server did not issue is a 400 naming it on every list route
 * that pages; errors Node's HTTP parser raises (an oversized header) are problems too, over a real
 * socket; and a body in a charset the API does not decode is a 415. No Temporal; PGlite.
 */
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../api/app.ts';
import { buildAppWithoutTemporal } from '../support/app-without-temporal.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';

let database: TestDatabase;
let app: App;
const tokens: Record<string, string> = {};

async function login(username: string) {
  tokens[username] ??= `Bearer ${
    (
      await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username, password: 'demo1234' },
        remoteAddress: `10.2.0.${Object.keys(tokens).length + 1}`,
      })
    ).json().token
  }`;
  return tokens[username];
}

function expectProblem(res: LightMyRequestResponse, status: number, pointer?: string) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json();
  expect(body.detail).toMatch(/[\u4e00-\u9fff]/);
  if (pointer) expect(body.errors?.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
  return body;
}

beforeAll(async () => {
  const [target] = databaseTargets();
  if (!target) throw new Error('no database target');
  database = await target.open();
  app = await buildAppWithoutTemporal(database);
});
afterAll(async () => {
  await app?.close();
  await database?.dispose();
});

describe('cursors', () => {
  const garbage = ['garbage', 'bm90LWpzb24', Buffer.from('[1,2]').toString('base64url'), ''];

  it('a cursor the server did not issue is a 400 naming the field, on every paged list', async () => {
    const routes: [string, string][] = [
      ['req-a', '/api/v1/verifications?box=outbox'],
      ['iss-a', '/api/v1/verifications?box=inbox'],
      ['office', '/api/v1/verifications?box=escalated'],
      ['req-a', '/api/v1/notifications'],
      ['office', '/api/v1/audit'],
      ['office', '/api/v1/escalations'],
      ['admin', '/api/v1/admin/staff'],
    ];
    for (const [who, url] of routes) {
      const authorization = await login(who);
      // A username is the staff list's cursor, so only text no username has is garbage there.
      const cursors = url.includes('/admin/')
        ? garbage.map((g) => `${g} /`)
        : [...garbage, ...garbage.map((g) => `${g} /`)];
      for (const cursor of cursors) {
        const res = await app.inject({
          url: `${url}${url.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(cursor)}`,
          headers: { authorization },
        });
        expectProblem(res, 400, '/querystring/cursor');
      }
    }
  });

  it('a cursor the server issued still pages', async () => {
    const authorization = await login('req-a');
    const cursor = Buffer.from(JSON.stringify([new Date().toISOString(), 'case-x'])).toString('base64url');
    for (const url of ['/api/v1/verifications?box=outbox', '/api/v1/notifications?']) {
      const res = await app.inject({ url: `${url}&cursor=${cursor}`, headers: { authorization } });
      expect(res.statusCode, res.body).toBe(200);
    }
  });
});

describe('errors from the HTTP parser', () => {
  it('an oversized Authorization header is a 431 problem over a real socket', async () => {
    const listening = await buildAppWithoutTemporal(database);
    try {
      await listening.listen({ port: 0, host: '127.0.0.1' });
      const { port } = listening.server.address() as AddressInfo;
      const res = await new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            path: '/api/v1/auth/me',
            headers: { authorization: `Bearer ${'a'.repeat(60 * 1024)}` },
          },
          (r) => {
            let body = '';
            r.setEncoding('utf8');
            r.on('data', (c) => {
              body += c;
            });
            r.on('end', () =>
              resolve({ status: r.statusCode ?? 0, type: String(r.headers['content-type']), body }),
            );
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(res.status).toBe(431);
      expect(res.type).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(res.body)).toMatchObject({ status: 431, detail: expect.stringMatching(/请求头/) });
    } finally {
      await listening.close();
    }
  });
});

describe('character sets', () => {
  const post = (contentType: string, payload: string | Buffer) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': contentType },
      payload,
      remoteAddress: '10.2.1.1',
    });

  it('refuses a body declared in a charset other than UTF-8 with 415', async () => {
    const json = JSON.stringify({ username: 'nobody', password: 'x' });
    for (const ct of [
      'application/json; charset=utf-16',
      'application/json;charset=UTF-16LE',
      'application/json; charset="iso-8859-1"',
      'application/json; charset=gbk',
    ]) {
      expectProblem(await post(ct, Buffer.from(json, ct.includes('16') ? 'utf16le' : 'latin1')), 415);
    }
  });

  it('accepts no charset or UTF-8 in any spelling', async () => {
    const json = JSON.stringify({ username: 'nobody', password: 'x' });
    for (const ct of [
      'application/json',
      'application/json; charset=utf-8',
      'application/json; charset=UTF-8',
      'application/json; charset="utf-8"',
    ])
      expect((await post(ct, json)).statusCode, ct).toBe(401);
  });
});
