/**
 * `npm start` as a user runs it: the real process with its embedded Temporal dev server and PGlite.
 * Start, readiness, a clean Ctrl-C, a restart that finds the data, a second instance refused, and
 * recovery after kill -9 (the orphaned dev server is stopped by the next start).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { isAlive } from '../app/data-dir.ts';
import { startBody } from './support/api.ts';
import {
  type EmbeddedProcess,
  pidOfDevServer,
  spawnEmbedded,
  waitReady,
} from './support/embedded-process.ts';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'xiecha-embedded-'));
const running: EmbeddedProcess[] = [];

afterAll(async () => {
  for (const p of running) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  const orphan = pidOfDevServer(dataDir);
  if (orphan && isAlive(orphan)) process.kill(orphan, 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(env?: Record<string, string>): Promise<EmbeddedProcess> {
  const p = await spawnEmbedded(dataDir, env);
  running.push(p);
  return p;
}

async function waitUntilDead(pid: number, ms = 15_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!isAlive(pid)) return true;
    await delay(100);
  }
  return !isAlive(pid);
}

// Each test starts the real system one to three times; on a loaded 2-core machine a start can take 30 s.
describe('the embedded system (npm start)', { timeout: 300_000 }, () => {
  it('becomes ready, serves the demo data, and stops cleanly on SIGINT leaving no process behind', async () => {
    const p = await start();
    const ms = await waitReady(p, 120_000);
    expect(ms).toBeGreaterThan(0);
    const ready = await (await fetch(`${p.baseUrl}/readyz`)).json();
    // (`warnings` may say that next year's official holiday schedule is not imported yet: not a failure.)
    expect(ready).toMatchObject({
      status: 'ready',
      checks: { database: 'ok', migrations: 'ok', temporal: 'ok' },
    });
    expect(Object.keys(ready.checks)).toEqual(['database', 'migrations', 'temporal']);
    expect(p.output()).toContain('演示账号');
    const devServer = pidOfDevServer(dataDir);
    expect(devServer && isAlive(devServer)).toBe(true);

    p.child.kill('SIGINT');
    expect(await p.exited).toBe(0);
    expect(await waitUntilDead(devServer as number)).toBe(true);
    expect(pidOfDevServer(dataDir)).toBeUndefined();
  });

  it('loses nothing across a stop with work in flight, and across kill -9: cases and their workflows carry on', async () => {
    const login = async (base: string, username: string) => {
      const res = await fetch(`${base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: 'demo1234' }),
      });
      expect(res.status).toBe(200);
      return `Bearer ${((await res.json()) as { token: string }).token}`;
    };
    const post = (base: string, auth: string, path: string, body: unknown, key?: string) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: auth,
          ...(key ? { 'idempotency-key': key } : {}),
        },
        body: JSON.stringify(body),
      });

    const first = await start();
    await waitReady(first, 120_000);
    const req = await login(first.baseUrl, 'req-a');
    const started = await post(
      first.baseUrl,
      req,
      '/api/v1/verifications',
      startBody(),
      `persist-${Date.now()}`,
    );
    expect(started.status).toBe(201);
    const created = (await started.json()) as { id: string; docNumber: string };
    // Stop while the case is open: its workflow waits on timers in the dev server.
    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);

    const second = await start();
    await waitReady(second, 120_000);
    const iss = await login(second.baseUrl, 'iss-a');
    const inbox = await fetch(`${second.baseUrl}/api/v1/verifications?box=inbox`, {
      headers: { authorization: iss },
    });
    const items = ((await inbox.json()) as { items: { id: string; docNumber: string }[] }).items;
    expect(items.find((i) => i.id === created.id)?.docNumber).toBe(created.docNumber);
    const registered = await post(second.baseUrl, iss, `/api/v1/verifications/${created.id}/register`, {});
    expect(registered.status).toBe(200);

    // A crash right after an action: the action and the case survive it.
    second.child.kill('SIGKILL');
    await second.exited;
    const third = await start();
    await waitReady(third, 120_000);
    const iss2 = await login(third.baseUrl, 'iss-a');
    const answered = await post(third.baseUrl, iss2, `/api/v1/verifications/${created.id}/respond`, {
      result: 'consistent',
      fields: { registeredAddress: '淄博市张店区人民西路 1 号' },
    });
    expect(answered.status, await answered.clone().text()).toBe(200);
    const detail = await fetch(`${third.baseUrl}/api/v1/verifications/${created.id}`, {
      headers: { authorization: iss2 },
    });
    const timeline = ((await detail.json()) as { timeline: { type: string }[] }).timeline.map((e) => e.type);
    // 张三 is not in the demo 户籍 data (HJ-001's connector): the system's fallback to people, with its reason,
    // may come before or after the registration.
    expect(timeline.filter((t) => t !== 'auto_check_fallback')).toEqual([
      'created',
      'registered',
      'answered',
    ]);
    third.child.kill('SIGINT');
    expect(await third.exited).toBe(0);
  });

  it('refuses a second instance on the same DATA_DIR with a clear message', async () => {
    const first = await start();
    await waitReady(first, 120_000);
    const second = await start();
    expect(await second.exited).toBe(1);
    expect(second.output()).toMatch(/DATA_DIR .* is in use by another running instance/);
    // The first one is untouched.
    expect((await fetch(`${first.baseUrl}/readyz`)).status).toBe(200);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
  });

  it('after kill -9, the next start stops the orphaned dev server and starts its own', async () => {
    const crashed = await start();
    await waitReady(crashed, 120_000);
    const orphan = pidOfDevServer(dataDir) as number;
    crashed.child.kill('SIGKILL');
    await crashed.exited;
    expect(isAlive(orphan)).toBe(true); // the dev server survived its parent

    const next = await start();
    await waitReady(next, 120_000);
    expect(await waitUntilDead(orphan)).toBe(true);
    expect(pidOfDevServer(dataDir)).not.toBe(orphan);
    next.child.kill('SIGINT');
    expect(await next.exited).toBe(0);
  });

  it('stops with a message naming the variable when configuration is invalid', async () => {
    const p = await start({ PORT: 'eighty' });
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain('Invalid configuration: PORT must be a port number');
  });
});
