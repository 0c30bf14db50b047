/**
 * The run command builds the web application when `web/dist` is missing (or older than its sources), so
 * a newcomer gets the UI with `npm start` and no extra step. The build runs Vite in a child process (its
 * memory is returned when it ends) and logs one line. A failed build does not stop the system: the API
 * still serves, and the web page explains how to build the UI by hand.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Logger } from 'pino';
import { PROJECT_ROOT } from './temporal-tools.ts';

export const WEB_DIR = path.join(PROJECT_ROOT, 'web');
export const WEB_DIST = path.join(WEB_DIR, 'dist');
const SOURCES = ['src', 'index.html', 'vite.config.ts', 'public'];

function newestMtime(p: string): number {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, entry)));
  return newest;
}

/** Why the UI needs building, or undefined when `web/dist` is there and newer than every source. */
export function webBuildReason(): 'missing' | 'stale' | undefined {
  const index = path.join(WEB_DIST, 'index.html');
  if (!existsSync(index)) return 'missing';
  const built = statSync(index).mtimeMs;
  return SOURCES.some((s) => newestMtime(path.join(WEB_DIR, s)) > built) ? 'stale' : undefined;
}

/**
 * Runs `vite build` for web/ and resolves when it has finished; rejects with Vite's output on failure.
 * Builds into a private directory and then swaps it in, so two processes starting at once (tests, two
 * DATA_DIRs) never serve or write a half-built `web/dist`.
 */
export async function buildWeb(): Promise<void> {
  const tmp = path.join(WEB_DIR, `.dist-${process.pid}-${Date.now()}`);
  try {
    await runVite(tmp);
    const old = `${tmp}-old`;
    if (existsSync(WEB_DIST)) renameSync(WEB_DIST, old);
    try {
      renameSync(tmp, WEB_DIST);
    } catch (err) {
      // Another process swapped its build in between: theirs is as good as ours.
      if (!existsSync(path.join(WEB_DIST, 'index.html'))) throw err;
    }
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function runVite(outDir: string): Promise<void> {
  const pkg = createRequire(import.meta.url).resolve('vite/package.json');
  const vite = path.join(path.dirname(pkg), 'bin', 'vite.js');
  return new Promise((resolve, reject) => {
    let out = '';
    const child = spawn(
      process.execPath,
      [
        vite,
        'build',
        '--config',
        path.join(WEB_DIR, 'vite.config.ts'),
        '--outDir',
        outDir,
        '--emptyOutDir',
        '--logLevel',
        'warn',
      ],
      {
        cwd: PROJECT_ROOT,
        // The build that is served is the production build, whatever the caller's NODE_ENV: under vitest
        // (NODE_ENV=test) Vite would otherwise bundle React's development build (1.6 MB, its warnings).
        env: { ...process.env, NODE_ENV: 'production' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error(`vite build failed (${code ?? signal}):\n${out.slice(-4000)}`)),
    );
  });
}

/** Builds the UI if needed; never throws (the API works without it). */
export async function ensureWebAssets(log: Logger): Promise<void> {
  const reason = webBuildReason();
  if (!reason) return;
  const started = Date.now();
  log.info(
    `正在构建网页界面（${reason === 'missing' ? 'web/dist 不存在' : '源文件已更新'}，约需 20–60 秒）…`,
  );
  try {
    await buildWeb();
    log.debug({ ms: Date.now() - started }, '网页界面已构建');
  } catch (err) {
    log.warn({ err }, '网页界面构建失败：API 照常可用；可运行 npm run web:build 查看原因');
  }
}
