/**
 * Runs `app/main.ts` (what `npm start` runs) as a real child process, for tests of the embedded system:
 * start-up, readiness, restart, crash recovery. Output is kept for assertions and failure messages.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { isAlive } from '../../app/data-dir.ts';
import { PROJECT_ROOT } from '../../app/temporal-tools.ts';

export interface EmbeddedProcess {
  child: ChildProcess;
  port: number;
  baseUrl: string;
  output(): string;
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<number | string>;
}

/**
 * A free port below the kernel's ephemeral range (32768–60999 here). The system under test binds its API
 * port only after its dev server has started, and the dev server takes random ephemeral ports for its
 * own listeners meanwhile: a port from that range could be taken in between (seen as EADDRINUSE).
 */
export async function apiPortForTest(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port between 20000 and 32000');
}

export async function spawnEmbedded(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<EmbeddedProcess> {
  const port = await apiPortForTest();
  let out = '';
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'app/main.ts')], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      LOG_PRETTY: 'false',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return { child, port, baseUrl: `http://127.0.0.1:${port}`, output: () => out, exited };
}

/** Polls GET /readyz until 200; returns the milliseconds it took. */
export async function waitReady(p: EmbeddedProcess, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (p.child.exitCode !== null)
      throw new Error(`process exited (${p.child.exitCode}) before ready:\n${p.output()}`);
    try {
      const res = await fetch(`${p.baseUrl}/readyz`);
      if (res.status === 200) return Date.now() - started;
    } catch {
      // not listening yet
    }
    await delay(250);
  }
  throw new Error(`not ready within ${timeoutMs} ms:\n${p.output()}`);
}

export function pidOfDevServer(dataDir: string): number | undefined {
  try {
    return Number.parseInt(readFileSync(path.join(dataDir, 'temporal.pid'), 'utf8'), 10);
  } catch {
    return undefined;
  }
}

/**
 * Stops a system a browser suite started and leaves nothing behind: SIGINT (the way a person stops
 * `npm start`), SIGKILL after 20 s, the Temporal dev server it spawned if it outlived it, and its data dir.
 */
export async function stopEmbedded(system: EmbeddedProcess | undefined, dataDir: string): Promise<void> {
  if (system && system.child.exitCode === null) {
    system.child.kill('SIGINT');
    const stopped = await Promise.race([system.exited, delay(20_000).then(() => 'timeout')]);
    if (stopped === 'timeout') system.child.kill('SIGKILL');
  }
  const orphan = pidOfDevServer(dataDir);
  if (orphan && isAlive(orphan)) process.kill(orphan, 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
}
