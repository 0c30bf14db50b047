/**
 * A real cluster on loopback, every process separate (issue 12):
 *   - a PostgreSQL server (Debian's /usr/lib/postgresql/<v>/bin, initdb in a temp dir, run as `postgres` when
 *     root), holding the app database `xiecha` and Temporal's `temporal` and `temporal_visibility`;
 *   - the Temporal server on it (scripts/temporal-server.sh start: schemas through temporal-sql-tool, namespace);
 *   - two workers and two APIs (app/worker-main.ts, app/api-main.ts: what `npm run worker` / `npm run api` run);
 *   - a round-robin front (node:http) on one port.
 *
 *   npm run cluster [-- --port 3000]     runs it until Ctrl-C, then stops everything it started, by PID.
 *
 * `startCluster()` is also what scripts/test-cluster.ts kills processes of. Everything started here is stopped
 * by `stop()`, on exit, on SIGINT/SIGTERM; a watcher stops PostgreSQL and Temporal if this process is killed.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const isRoot = process.getuid?.() === 0;

export interface ClusterOptions {
  /** The front's port (0: a free one). */
  frontPort?: number;
  /** Extra environment for the API and worker processes (DEV_SLA_SECONDS, RATE_LIMIT_PER_MINUTE …). */
  appEnv?: Record<string, string>;
  /** How many workers and APIs (2 and 2 by default; the memory benchmark runs one of each). */
  workers?: number;
  apis?: number;
  log?: (line: string) => void;
}

export interface AppProcess {
  readonly name: string;
  readonly port?: number;
  pid(): number | undefined;
  /** SIGKILL, no goodbye. */
  kill9(): void;
  /** Starts it again (after kill9) and, for an API, waits until its /healthz answers. */
  restart(): Promise<void>;
}

export interface Cluster {
  dir: string;
  frontUrl: string;
  databaseUrl: string;
  temporalAddress: string;
  /** The environment the app processes run with (for the operator commands: reconcile, audit:verify). */
  env: Record<string, string>;
  workers: AppProcess[];
  apis: AppProcess[];
  postgres: { stop(): Promise<void>; start(): Promise<void> };
  temporal: { kill9(): Promise<void>; restart(): Promise<void> };
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A base port with base..base+13 free: Temporal's services (scripts/temporal-server.sh). */
async function freePortRange(width: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    // Below 32768: Temporal keeps the membership ports in a smallint column.
    const base = 20000 + Math.floor(Math.random() * 12000);
    let ok = true;
    for (let p = base; p < base + width && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error('no free range of ports for the Temporal server');
}

function pgBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(a) - Number(b))
    : [];
  const v = versions.at(-1);
  if (!v)
    throw new Error(
      'no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb): apt-get install postgresql',
    );
  return path.join(root, v, 'bin');
}

const run = promisify(execFile);

/** initdb and postgres refuse root: run them as the `postgres` system user then. */
async function asPgOwner(cmd: string, args: string[]): Promise<void> {
  if (isRoot) await run('runuser', ['-u', 'postgres', '--', cmd, ...args], { cwd: '/' });
  else await run(cmd, args);
}

async function waitFor(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not come up within ${timeoutMs / 1000} s`);
}

async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await res.body?.cancel();
  return res.ok;
}

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The front: round-robin over the APIs; a refused connection goes to the next one (the body is buffered). */
function startFront(backends: () => number[], port: number): Promise<http.Server> {
  let next = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const ports = backends();
      const attempt = (tries: number) => {
        const target = ports[next++ % ports.length] as number;
        const up = http.request(
          { host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers },
          (r) => {
            res.writeHead(r.statusCode ?? 502, r.headers);
            r.pipe(res);
          },
        );
        up.on('error', (err) => {
          if (
            !res.headersSent &&
            tries + 1 < ports.length &&
            (err as NodeJS.ErrnoException).code === 'ECONNREFUSED'
          )
            return attempt(tries + 1);
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
          res.end('bad gateway');
        });
        res.on('close', () => up.destroy());
        up.end(body);
      };
      attempt(0);
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const log = opts.log ?? ((l: string) => console.log(`[cluster] ${l}`));
  const bin = pgBin();
  // Short prefix: the unix socket path must stay under ~100 characters.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'xiecha-cl.'));
  chmodSync(dir, 0o755);
  const pgDir = path.join(dir, 'pg');
  const children = new Set<ChildProcess>();
  let pgPort = 0;
  let stopped = false;
  let temporalDir = '';
  let front: http.Server | undefined;
  let watcher: ChildProcess | undefined;

  const pgCtl = (...args: string[]) =>
    asPgOwner(path.join(bin, 'pg_ctl'), ['-D', path.join(pgDir, 'data'), ...args]);
  const temporalScript = async (...args: string[]) =>
    (
      await run('bash', [path.join(ROOT, 'scripts/temporal-server.sh'), ...args], { cwd: ROOT })
    ).stdout.trim();

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    front?.close();
    front?.closeAllConnections();
    for (const c of children) if (alive(c.pid)) c.kill('SIGTERM');
    const deadline = Date.now() + 10_000;
    while ([...children].some((c) => alive(c.pid) && c.exitCode === null) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    for (const c of children) if (c.exitCode === null && alive(c.pid)) c.kill('SIGKILL');
    if (temporalDir) {
      try {
        await temporalScript('stop', temporalDir);
      } catch {}
    }
    if (existsSync(path.join(pgDir, 'data', 'postmaster.pid'))) {
      try {
        await pgCtl('-m', 'immediate', '-w', '-t', '30', 'stop');
      } catch {}
    }
    watcher?.kill('SIGTERM');
    if (!process.env.CLUSTER_KEEP) rmSync(dir, { recursive: true, force: true });
    log(`stopped${process.env.CLUSTER_KEEP ? ` (files kept in ${dir})` : ''}`);
  };

  try {
    // ── PostgreSQL ──────────────────────────────────────────────────────────────────────────────────
    mkdirSync(pgDir);
    if (isRoot) {
      const { uid, gid } = pgUser();
      chownSync(pgDir, uid, gid);
    }
    await asPgOwner(path.join(bin, 'initdb'), [
      '-D',
      path.join(pgDir, 'data'),
      '-U',
      'postgres',
      '--auth=trust', // loopback only, a throwaway cluster
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    pgPort = await freePort();
    const conf = [
      "listen_addresses = '127.0.0.1'",
      `port = ${pgPort}`,
      `unix_socket_directories = '${pgDir}'`,
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      'max_connections = 300',
    ].join('\n');
    await asPgOwner('sh', [
      '-c',
      `printf '%s\\n' "$1" >> "$2"`,
      'sh',
      conf,
      path.join(pgDir, 'data', 'postgresql.conf'),
    ]);
    const startPg = () => pgCtl('-l', path.join(pgDir, 'postgres.log'), '-w', '-t', '60', 'start');
    await startPg();
    await asPgOwner(path.join(bin, 'createdb'), [
      '-h',
      pgDir,
      '-p',
      String(pgPort),
      '-U',
      'postgres',
      'xiecha',
    ]);
    log(`PostgreSQL ${pgPort} (${bin})`);

    // If this process dies without cleaning up (SIGKILL), a watcher stops the servers and removes the files.
    watcher = spawn(
      'bash',
      [
        '-c',
        `trap '' INT; while kill -0 ${process.pid} 2>/dev/null; do sleep 2; done; ` +
          `[ -f "${dir}/app.pids" ] && while read -r p; do kill -9 "$p" 2>/dev/null; done < "${dir}/app.pids"; ` +
          `bash "${ROOT}/scripts/temporal-server.sh" stop "${dir}/temporal"; ` +
          `${isRoot ? 'runuser -u postgres -- ' : ''}"${bin}/pg_ctl" -D "${pgDir}/data" -m immediate stop; rm -rf "${dir}"`,
      ],
      { stdio: 'ignore', detached: true },
    );
    watcher.unref();

    // ── Temporal ────────────────────────────────────────────────────────────────────────────────────
    temporalDir = path.join(dir, 'temporal');
    const grpcPort = await freePortRange(14);
    const startTemporal = () =>
      temporalScript(
        'start',
        temporalDir,
        '127.0.0.1',
        String(pgPort),
        'postgres',
        'trust',
        String(grpcPort),
      );
    const temporalAddress = (await startTemporal()).split('\n').at(-1) as string;
    log(`Temporal server ${temporalAddress}`);

    // ── the app processes ───────────────────────────────────────────────────────────────────────────
    const databaseUrl = `postgres://postgres@127.0.0.1:${pgPort}/xiecha`;
    const env: Record<string, string> = {
      TEMPORAL_ADDRESS: temporalAddress,
      DATABASE_URL: databaseUrl,
      JWT_SECRET: randomBytes(32).toString('hex'),
      PAYLOAD_KEYS: randomBytes(32).toString('base64'),
      SUBJECT_KEY: randomBytes(32).toString('base64'),
      AUDIT_KEY: randomBytes(32).toString('base64'),
      SEED_DEMO: 'true',
      HOST: '127.0.0.1',
      LOG_PRETTY: 'false',
      LOG_LEVEL: 'warn',
      AUDIT_ANCHOR_SECONDS: '10',
      ...opts.appEnv,
    };
    // The workflow bundle once, before two workers would each build it.
    execFileSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'app/build-workflows.ts')], {
      cwd: ROOT,
      stdio: 'ignore',
    });

    const appProcess = (name: string, entry: string, port?: number): AppProcess => {
      let child: ChildProcess | undefined;
      const launch = async () => {
        const out = openSync(path.join(dir, `${name}.log`), 'a');
        const c = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, entry)], {
          cwd: ROOT,
          env: {
            ...process.env,
            ...env,
            ...(port ? { PORT: String(port), AUDIT_ANCHOR_FILE: path.join(dir, `${name}-anchors.log`) } : {}),
          },
          stdio: ['ignore', out, out],
        });
        children.add(c);
        appendFileSync(path.join(dir, 'app.pids'), `${c.pid}\n`);
        c.on('exit', () => children.delete(c));
        child = c;
        if (port) await waitFor(name, 120_000, () => httpOk(`http://127.0.0.1:${port}/healthz`));
      };
      return {
        name,
        port,
        pid: () => child?.pid,
        kill9: () => child?.kill('SIGKILL'),
        restart: launch,
        ...{ launch },
      } as AppProcess & { launch: () => Promise<void> };
    };
    const apiPorts: number[] = [];
    for (let i = 0; i < (opts.apis ?? 2); i++) apiPorts.push(await freePort());
    const workers = Array.from({ length: opts.workers ?? 2 }, (_, i) =>
      appProcess(`worker-${i + 1}`, 'app/worker-main.ts'),
    );
    const apis = apiPorts.map((p, i) => appProcess(`api-${i + 1}`, 'app/api-main.ts', p));
    // One API first: it applies the migrations and the seed alone (the others wait on the advisory lock anyway).
    await (apis[0] as AppProcess).restart();
    await Promise.all([...workers, ...apis.slice(1)].map((p) => p.restart()));
    log(
      `workers pid ${workers.map((w) => w.pid()).join(', ')}; APIs ${apis.map((a) => `${a.port} (pid ${a.pid()})`).join(', ')}`,
    );

    front = await startFront(() => apiPorts, opts.frontPort ?? 0);
    const frontUrl = `http://127.0.0.1:${(front.address() as net.AddressInfo).port}`;
    log(`front ${frontUrl} (round robin over ${apiPorts.join(', ')}); logs in ${dir}`);

    return {
      dir,
      frontUrl,
      databaseUrl,
      temporalAddress,
      env,
      workers,
      apis,
      postgres: {
        stop: () => pgCtl('-m', 'fast', '-w', '-t', '60', 'stop'),
        start: startPg,
      },
      temporal: {
        async kill9() {
          const pidFile = path.join(temporalDir, 'server.pid');
          const pid = Number(readFileSync(pidFile, 'utf8'));
          process.kill(pid, 'SIGKILL');
          // Gone, or a zombie nobody reaps (it was started in the background by a shell that has exited).
          await waitFor('the killed Temporal server to exit', 10_000, async () => {
            try {
              return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
            } catch {
              return true;
            }
          });
          rmSync(pidFile, { force: true });
        },
        async restart() {
          await startTemporal();
        },
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function pgUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error("running as root but there is no 'postgres' user to run the server as");
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

async function main() {
  const i = process.argv.indexOf('--port');
  const frontPort = i > 0 ? Number(process.argv[i + 1]) : 3000;
  const cluster = await startCluster({ frontPort });
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    console.log('\n[cluster] stopping …');
    cluster.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  console.log(
    `[cluster] ready: ${cluster.frontUrl} (demo logins, password demo1234). Ctrl-C stops everything.`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
