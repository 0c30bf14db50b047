/**
 * Connections to Temporal and the case worker, configured in one place so the client and the worker
 * always share the data converter (payload encryption) and the task queue.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection, type DataConverter } from '@temporalio/client';
import {
  bundleWorkflowCode,
  NativeConnection,
  Worker,
  type WorkerOptions,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import type { Logger } from 'pino';
import { type AppMetrics, activityFailureInterceptor } from '../api/services/metrics.ts';
import type { CryptoProfile } from '../domain/crypto-profile.ts';
import type { AbsenceActivities } from '../workflows/absence-hand-over.ts';
import type { CaseActivities } from '../workflows/activity-contract.ts';
import type { CalendarActivities } from '../workflows/calendar-retime.ts';
import type { TemporalConnectionConfig } from './config.ts';
import { PayloadCipherCodec } from './payload-codec.ts';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
const FAILURE_CONVERTER_PATH = fileURLToPath(new URL('../workflows/failure-converter.ts', import.meta.url));

/**
 * `payloadKeys`: one key, or the ring with the current key first; `profile`: the cipher new payloads are
 * encrypted with (CRYPTO_PROFILE; either cipher decodes).
 */
export function dataConverter(
  payloadKeys: Buffer | readonly Buffer[],
  profile: CryptoProfile = 'default',
): DataConverter {
  return {
    payloadCodecs: [new PayloadCipherCodec(payloadKeys, { profile })],
    failureConverterPath: FAILURE_CONVERTER_PATH,
  };
}

function connectionOptions(cfg: TemporalConnectionConfig & { address: string }) {
  const tls = cfg.tls
    ? {
        serverNameOverride: cfg.tls.serverName,
        serverRootCACertificate: cfg.tls.serverCaPath ? readFileSync(cfg.tls.serverCaPath) : undefined,
        clientCertPair:
          cfg.tls.clientCertPath && cfg.tls.clientKeyPath
            ? { crt: readFileSync(cfg.tls.clientCertPath), key: readFileSync(cfg.tls.clientKeyPath) }
            : undefined,
      }
    : undefined;
  return { address: cfg.address, tls: tls ?? (cfg.apiKey ? true : undefined), apiKey: cfg.apiKey };
}

export async function connectClient(
  cfg: TemporalConnectionConfig & { address: string },
  payloadKey: Buffer | readonly Buffer[],
  profile: CryptoProfile = 'default',
): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(cfg));
  return new Client({
    connection,
    namespace: cfg.namespace,
    dataConverter: dataConverter(payloadKey, profile),
  });
}

let bundlePromise: Promise<WorkflowBundleOption> | undefined;

const WORKFLOWS_DIR = dirname(WORKFLOWS_PATH);
const ROOT_DIR = dirname(WORKFLOWS_DIR);
const BUNDLE_CACHE_DIR = join(ROOT_DIR, 'dist', 'workflow-bundle');

/**
 * What the bundle is made of: every file under workflows/ (they import nothing else of ours) and the
 * lock file (the SDK's workflow runtime is bundled too). Same hash, same bundle.
 */
export function workflowSourceHash(): string {
  const h = createHash('sha256');
  const files = readdirSync(WORKFLOWS_DIR, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .sort();
  for (const f of files)
    h.update(f)
      .update('\0')
      .update(readFileSync(join(WORKFLOWS_DIR, f)))
      .update('\0');
  h.update(readFileSync(join(ROOT_DIR, 'package-lock.json')));
  return h.digest('hex').slice(0, 32);
}

/** Where the bundle of the current sources is cached (`npm run build:workflows` writes it). */
export const workflowBundlePath = (): string => join(BUNDLE_CACHE_DIR, `${workflowSourceHash()}.js`);

/** Bundles the workflow code with webpack (several seconds of CPU). */
export async function buildWorkflowBundle(log?: Logger): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    failureConverterPath: FAILURE_CONVERTER_PATH,
    logger: log
      ? {
          trace: () => {},
          debug: () => {},
          info: (m: string) => log.debug(m),
          warn: (m: string, meta?: Record<string, unknown>) => log.warn(meta ?? {}, m),
          error: (m: string, meta?: Record<string, unknown>) => log.error(meta ?? {}, m),
          log: () => {},
        }
      : undefined,
  });
  return code;
}

/** Writes the bundle where workflowBundle() finds it; atomic, so concurrent workers never read half a file. */
export function writeWorkflowBundle(code: string, path = workflowBundlePath()): string {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, code);
  renameSync(tmp, path);
  // Bundles of older sources are of no use once a day has passed (no worker still starting from them).
  const dayAgo = Date.now() - 86_400_000;
  for (const f of readdirSync(dirname(path))) {
    const old = join(dirname(path), f);
    if (old !== path && f.endsWith('.js') && statSync(old).mtimeMs < dayAgo) rmSync(old, { force: true });
  }
  return path;
}

/**
 * The workflow bundle, once per process, shared by every worker. A bundle prebuilt for exactly these
 * sources (`npm run build:workflows`, run by the Dockerfile, or cached by an earlier start) is loaded as
 * it is, as Temporal's production sample does; otherwise the sources are bundled now and cached for the
 * next start. The cache is keyed by the sources' hash, so a changed workflow is never run from a stale one.
 */
export function workflowBundle(log?: Logger): Promise<WorkflowBundleOption> {
  bundlePromise ??= (async () => {
    const path = workflowBundlePath();
    if (existsSync(path)) {
      log?.debug({ path }, 'prebuilt workflow bundle');
      return { codePath: path };
    }
    const code = await buildWorkflowBundle(log);
    try {
      writeWorkflowBundle(code, path);
    } catch (err) {
      log?.warn(
        { err, path },
        'workflow bundle not cached (read-only directory?): the next start bundles again',
      );
    }
    return { code };
  })();
  return bundlePromise;
}

export interface CaseWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** The case workflow's activities, and the calendar re-timing workflow's where this worker runs those. */
  activities: CaseActivities & Partial<CalendarActivities & AbsenceActivities>;
  payloadKey: Buffer | readonly Buffer[];
  /** CRYPTO_PROFILE: the cipher of the payloads it writes (default AES-256-GCM). */
  cryptoProfile?: CryptoProfile;
  log?: Logger;
  /** Slots and cache (app/system.ts derives them from the configuration); the SDK's defaults otherwise. */
  tuning?: WorkerTuning;
  /** Where failed activity attempts are counted (the operators' /metrics). */
  metrics?: AppMetrics;
}

export type WorkerTuning = Pick<
  WorkerOptions,
  'maxConcurrentActivityTaskExecutions' | 'maxConcurrentLocalActivityExecutions' | 'maxCachedWorkflows'
>;

export async function createCaseWorker(opts: CaseWorkerOptions): Promise<Worker> {
  return Worker.create({
    ...opts.tuning,
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowBundle: await workflowBundle(opts.log),
    activities: opts.activities,
    dataConverter: dataConverter(opts.payloadKey, opts.cryptoProfile),
    ...(opts.metrics ? { interceptors: { activity: [activityFailureInterceptor(opts.metrics)] } } : {}),
  });
}

export async function connectWorker(
  cfg: TemporalConnectionConfig & { address: string },
): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(cfg));
}
