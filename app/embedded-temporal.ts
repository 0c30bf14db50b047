/**
 * The embedded default's Temporal: the official CLI's dev server, persisted to DATA_DIR/temporal.db.
 * We spawn it ourselves (rather than through the SDK's ephemeral server) to know its pid: a pid file lets
 * the next start stop a dev server orphaned by a crash of this process, before starting its own.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import type { Logger } from 'pino';
import { isAlive } from './data-dir.ts';

export interface EmbeddedTemporal {
  address: string;
  uiUrl: string;
  namespace: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function processCommandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** Stops a dev server left behind by a crashed earlier run of the same DATA_DIR (and only that one). */
async function stopOrphan(pidFile: string, dbFile: string, log: Logger): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8'), 10);
  if (Number.isInteger(pid) && isAlive(pid) && processCommandLine(pid).includes(dbFile)) {
    log.warn({ pid }, 'stopping a Temporal dev server left by an earlier run of this DATA_DIR');
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && isAlive(pid); i++) await delay(100);
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(pidFile, { force: true });
}

async function waitUntilServing(address: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const started = Date.now();
  let lastError: unknown;
  while (Date.now() - started < timeoutMs) {
    if (child.exitCode !== null) throw new Error(`Temporal dev server exited with code ${child.exitCode}`);
    try {
      const conn = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await conn.healthService.check({});
        return;
      } finally {
        await conn.close();
      }
    } catch (err) {
      lastError = err;
      await delay(200);
    }
  }
  throw new Error(
    `Temporal dev server did not answer on ${address} within ${timeoutMs} ms: ${String(lastError)}`,
  );
}

export interface EmbeddedTemporalOptions {
  cliPath: string;
  dataDir: string;
  namespace: string;
  port?: number;
  log: Logger;
  searchAttributes?: Record<string, string>;
}

export async function startEmbeddedTemporal(opts: EmbeddedTemporalOptions): Promise<EmbeddedTemporal> {
  const dbFile = path.join(opts.dataDir, 'temporal.db');
  const pidFile = path.join(opts.dataDir, 'temporal.pid');
  await stopOrphan(pidFile, dbFile, opts.log);

  const port = opts.port || (await freePort());
  const uiPort = await freePort();
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--db-filename',
    dbFile,
    '--namespace',
    opts.namespace,
    '--log-level',
    'warn',
    ...Object.entries(opts.searchAttributes ?? {}).flatMap(([k, v]) => ['--search-attribute', `${k}=${v}`]),
  ];
  const child = spawn(opts.cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not start ${opts.cliPath}`);
  writeFileSync(pidFile, String(child.pid));
  const devLog = opts.log.child({ component: 'temporal-dev-server' });
  // The dev server is chatty (and noisy while stopping): keep its output at debug level, and the tail
  // of it to explain a failed start.
  const tail: string[] = [];
  const keep = (b: Buffer) => {
    const text = b.toString().trim();
    devLog.debug(text);
    tail.push(text);
    if (tail.length > 20) tail.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const address = `127.0.0.1:${port}`;
  try {
    await waitUntilServing(address, child, 60_000);
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(pidFile, { force: true });
    devLog.error({ output: tail.join('\n') }, 'Temporal dev server failed to start');
    throw err;
  }

  return {
    address,
    uiUrl: `http://127.0.0.1:${uiPort}`,
    namespace: opts.namespace,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killer);
      }
      rmSync(pidFile, { force: true });
    },
  };
}
