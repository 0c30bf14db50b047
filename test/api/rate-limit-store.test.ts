/**
 * The shared rate-limit store (api/services/rate-limit-store.ts): two API processes on one database give a
 * client one budget between them, not one each; a window that ran out starts again.
 */
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgRateLimitStore } from '../../api/services/rate-limit-store.ts';
import { databaseTargets, type TestDatabase } from '../support/databases.ts';

describe.each(databaseTargets())('shared rate limits on $name', (target) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await target.open({ seed: false });
  });
  afterAll(async () => {
    await database?.dispose();
  });

  /** One "API process": its own Fastify and its own store instance, the shared table. */
  async function replica(max: number, timeWindow: number | string): Promise<FastifyInstance> {
    const app = Fastify();
    await app.register(rateLimit, {
      max,
      timeWindow,
      store: pgRateLimitStore(database.db),
      keyGenerator: (req) => String(req.headers['x-who']),
    });
    app.get('/', async () => ({ ok: true }));
    await app.ready();
    return app;
  }
  const hit = (app: FastifyInstance, who: string) =>
    app.inject({ method: 'GET', url: '/', headers: { 'x-who': who } }).then((r) => r.statusCode);

  it('two replicas count against one budget', async () => {
    const [a, b] = [await replica(5, '1 minute'), await replica(5, '1 minute')];
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push(await hit(a, 'alice'), await hit(b, 'alice'));
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    // Someone else has a budget of their own.
    expect(await hit(b, 'bob')).toBe(200);
    await Promise.all([a.close(), b.close()]);
  });

  it('concurrent requests through both replicas are each counted once', async () => {
    const [a, b] = [await replica(10, '1 minute'), await replica(10, '1 minute')];
    const statuses = await Promise.all(Array.from({ length: 30 }, (_, i) => hit(i % 2 ? a : b, 'carol')));
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    await Promise.all([a.close(), b.close()]);
  });

  it('a window that ran out starts again', async () => {
    const a = await replica(1, 400);
    expect(await hit(a, 'dave')).toBe(200);
    expect(await hit(a, 'dave')).toBe(429);
    await new Promise((r) => setTimeout(r, 500));
    expect(await hit(a, 'dave')).toBe(200);
    await a.close();
  });
});
