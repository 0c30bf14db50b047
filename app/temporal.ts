/**
 * Connections to Temporal and the case worker, configured in one place so the client and the worker
 * always share the data converter (payload encryption) and the task queue.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, Connection, type DataConverter } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { AbsenceActivities } from '../workflows/absence-hand-over.ts';
import type { CaseActivities } from '../workflows/activity-contract.ts';
import type { CalendarActivities } from '../workflows/calendar-retime.ts';
import type { TemporalConnectionConfig } from './config.ts';
import { AesGcmPayloadCodec } from './payload-codec.ts';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
const FAILURE_CONVERTER_PATH = fileURLToPath(new URL('../workflows/failure-converter.ts', import.meta.url));

/** `payloadKeys`: one key, or the ring with the current key first. */
export function dataConverter(payloadKeys: Buffer | readonly Buffer[]): DataConverter {
  return {
    payloadCodecs: [new AesGcmPayloadCodec(payloadKeys)],
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
): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(cfg));
  return new Client({ connection, namespace: cfg.namespace, dataConverter: dataConverter(payloadKey) });
}

let bundlePromise: Promise<WorkflowBundleOption> | undefined;

/** Bundles the workflow code once per process (webpack: a few seconds), shared by every worker. */
export function workflowBundle(log?: Logger): Promise<WorkflowBundleOption> {
  bundlePromise ??= bundleWorkflowCode({
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
  return bundlePromise;
}

export interface CaseWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** The case workflow's activities, and the calendar re-timing workflow's where this worker runs those. */
  activities: CaseActivities & Partial<CalendarActivities & AbsenceActivities>;
  payloadKey: Buffer | readonly Buffer[];
  log?: Logger;
}

export async function createCaseWorker(opts: CaseWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowBundle: await workflowBundle(opts.log),
    activities: opts.activities,
    dataConverter: dataConverter(opts.payloadKey),
  });
}

export async function connectWorker(
  cfg: TemporalConnectionConfig & { address: string },
): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(cfg));
}
