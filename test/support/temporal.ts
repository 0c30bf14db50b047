/**
 * Temporal for tests, from the binaries scripts/install-temporal.sh provides (never a download):
 * the time-skipping test server for workflow paths, the real dev server for round trips.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { pino } from 'pino';
import type { AppMetrics } from '../../api/services/metrics.ts';
import { createCaseWorker, dataConverter, type WorkerTuning } from '../../app/temporal.ts';
import { temporalBinaries } from '../../app/temporal-tools.ts';
import { createContentCipher } from '../../domain/content-cipher.ts';
import type { CryptoProfile } from '../../domain/crypto-profile.ts';
import type { AbsenceActivities } from '../../workflows/absence-hand-over.ts';
import type { CaseActivities } from '../../workflows/activity-contract.ts';
import type { BulkActivities } from '../../workflows/bulk-action.ts';
import type { CalendarActivities } from '../../workflows/calendar-retime.ts';

export const TEST_PAYLOAD_KEY = Buffer.alloc(32, 7);
export const TEST_SUBJECT_KEY = Buffer.alloc(32, 9);
export const TEST_AUDIT_KEY = Buffer.alloc(32, 5);
/** Case content at rest, sealed with the payload key as in production. */
export const TEST_CONTENT_CIPHER = createContentCipher(TEST_PAYLOAD_KEY);
export const silentLog = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({
    // The same payload encryption as production: the worker encrypts what it returns.
    client: { dataConverter: dataConverter(TEST_PAYLOAD_KEY) },
    server: { executable: { type: 'existing-path', path: temporalBinaries().testServer } },
  });
}

export function createDevServerEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    client: { dataConverter: dataConverter(TEST_PAYLOAD_KEY) },
    server: {
      executable: { type: 'existing-path', path: temporalBinaries().cli },
      ip: '127.0.0.1',
      extraArgs: ['--log-level', 'error'],
    },
  });
}

let taskQueueCounter = 0;
export const uniqueTaskQueue = (name = 'test'): string => `${name}-${process.pid}-${++taskQueueCounter}`;

/** A case worker on its own task queue, with the real workflow bundle and the given activities. */
export async function caseWorker(
  env: TestWorkflowEnvironment,
  activities: CaseActivities & Partial<CalendarActivities & AbsenceActivities & BulkActivities>,
  taskQueue: string,
  payloadKeys: Buffer | readonly Buffer[] = TEST_PAYLOAD_KEY,
  tuning?: WorkerTuning,
  metrics?: AppMetrics,
  cryptoProfile?: CryptoProfile,
): Promise<Worker> {
  return createCaseWorker({
    metrics,
    cryptoProfile,
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    activities,
    payloadKey: payloadKeys,
    tuning,
  });
}
