/**
 * The API against real components: the Fastify app (via inject), the real case gateway and worker on
 * the Temporal dev server, and a real database (PGlite or PostgreSQL).
 */
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createAbsenceActivities } from '../../activities/absence-activities.ts';
import { createCalendarActivities } from '../../activities/calendar-activities.ts';
import { createCalendarSource } from '../../activities/calendar-source.ts';
import { createCaseActivities, type Notifier } from '../../activities/case-activities.ts';
import { createCommitmentActivities } from '../../activities/commitment-activities.ts';
import { createComplaintActivities } from '../../activities/complaint-activities.ts';
import { createConnectorActivities } from '../../activities/connector-activities.ts';
import type { ConnectorRegistry } from '../../activities/connectors.ts';
import { createDisputeActivities } from '../../activities/dispute-activities.ts';
import type { ChannelNames } from '../../activities/notification-channels.ts';
import { type CaseDeadline, deadlineWithReminders } from '../../activities/opening.ts';
import { type App, buildApp } from '../../api/app.ts';
import { createBulkActivities } from '../../api/routes/case-actions.ts';
import { recordAudit } from '../../api/services/audit.ts';
import { createBatchActivities } from '../../api/services/batches.ts';
import { type CaseGateway, createCaseGateway } from '../../api/services/case-gateway.ts';
import { createCatalogChangeActivities } from '../../api/services/catalog-changes.ts';
import { type LiveEvents, liveEventHooks } from '../../api/services/live-events.ts';
import { type AppMetrics, createAppMetrics } from '../../api/services/metrics.ts';
import { dataConverter, type WorkerTuning } from '../../app/temporal.ts';
import { pendingMigrations } from '../../db/migrate.ts';
import { DEMO_PASSWORD } from '../../db/seed.ts';
import { createContentCipher } from '../../domain/content-cipher.ts';
import type { CryptoProfile } from '../../domain/crypto-profile.ts';
import type { DatabaseTarget, TestDatabase } from './databases.ts';
import {
  caseWorker,
  silentLog,
  TEST_AUDIT_KEY,
  TEST_CONTENT_CIPHER,
  TEST_PAYLOAD_KEY,
  TEST_SUBJECT_KEY,
  uniqueTaskQueue,
} from './temporal.ts';

export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-0123';
/** The operators' METRICS_TOKEN in tests: `/metrics` answers `Authorization: Bearer <this>`. */
export const TEST_METRICS_TOKEN = 'test-metrics-token-0123456789';

export interface ApiHarness {
  app: App;
  database: TestDatabase;
  worker: Worker;
  /** This harness's metrics (API and worker share them, as in the embedded system). */
  metrics: AppMetrics;
  /** Logs a demo user in and returns the Authorization header value. */
  login(username: string, password?: string): Promise<string>;
  close(): Promise<void>;
}

export async function createApiHarness(
  env: TestWorkflowEnvironment,
  target: DatabaseTarget,
  opts: {
    events?: LiveEvents;
    clock?: () => Date;
    wrapGateway?: (gateway: CaseGateway) => CaseGateway;
    /** Another payload key ring than the tests' one key (current first): client, worker and content. */
    payloadKeys?: Buffer[];
    /** CRYPTO_PROFILE of this generation (payloads, content, audit MACs); `default` unless given. */
    cryptoProfile?: CryptoProfile;
    /** An open database to use (and leave open), and the task queue: a second "generation" of the system. */
    database?: TestDatabase;
    taskQueue?: string;
    /** The opening deadline the API works out (benchmarks choose their deadlines); the calendar's otherwise. */
    caseDeadline?: CaseDeadline;
    /** The worker's slots and cache (benchmarks: as app/system.ts sets them); the SDK's defaults otherwise. */
    tuning?: WorkerTuning;
    /** METRICS_TOKEN of the app; TEST_METRICS_TOKEN unless given (`null`: none, `/metrics` refused). */
    metricsToken?: string | null;
    /** Delivery beyond the in-app record (e.g. a webhook), after the live stream if there is one. */
    notifier?: Notifier;
    /** Data sources for automatic answers (the worker's connector activity and the API's list of names). */
    connectors?: ConnectorRegistry;
    /** The configured notification robots and SMS the API offers (names only); none unless given. */
    notificationChannels?: ChannelNames;
  } = {},
): Promise<ApiHarness> {
  const database = opts.database ?? (await target.open());
  const taskQueue = opts.taskQueue ?? uniqueTaskQueue('api');
  const calendar = createCalendarSource(database.db);
  const metrics = createAppMetrics();
  const profile = opts.cryptoProfile ?? 'default';
  const contentCipher =
    opts.payloadKeys || opts.cryptoProfile
      ? createContentCipher(opts.payloadKeys ?? TEST_PAYLOAD_KEY, { profile })
      : TEST_CONTENT_CIPHER;
  const client =
    opts.payloadKeys || opts.cryptoProfile
      ? new Client({
          connection: env.connection,
          namespace: env.namespace ?? 'default',
          dataConverter: dataConverter(opts.payloadKeys ?? TEST_PAYLOAD_KEY, profile),
        })
      : env.client;
  const worker = await caseWorker(
    env,
    {
      ...createCalendarActivities(database.db),
      ...createAbsenceActivities(database.db),
      ...createCommitmentActivities({ db: database.db, calendar }),
      ...createCatalogChangeActivities(database.db, calendar),
      ...createBulkActivities({ db: database.db, auditKey: TEST_AUDIT_KEY, metrics, cryptoProfile: profile }),
      ...createBatchActivities({
        db: database.db,
        auditKey: TEST_AUDIT_KEY,
        cryptoProfile: profile,
        contentCipher,
        caseDeadline: opts.caseDeadline ?? ((input) => deadlineWithReminders(calendar, input)),
        ...(opts.connectors ? { connectors: new Set(opts.connectors.names()) } : {}),
      }),
      ...createDisputeActivities({ db: database.db }),
      ...(opts.connectors
        ? createConnectorActivities({
            connectors: opts.connectors,
            audit: (entry) => recordAudit(database.db, entry),
            log: silentLog,
            onQuery: (ms, outcome, connector) => metrics.connectorQueried(connector, ms, outcome),
          })
        : {}),
      ...createComplaintActivities({ db: database.db, calendar }),
      ...createCaseActivities({
        db: database.db,
        calendar,
        subjectKey: TEST_SUBJECT_KEY,
        contentCipher,
        log: silentLog,
        metrics,
        // The worker feeds the app's live inbox stream, as in the embedded system.
        ...(opts.notifier ? { notifier: opts.notifier } : {}),
        ...(opts.events ? liveEventHooks(opts.events, opts.notifier) : {}),
      }),
    },
    taskQueue,
    opts.payloadKeys,
    opts.tuning,
    metrics,
    profile,
  );
  const running = worker.run();
  const app = await buildApp({
    log: silentLog,
    db: database.db,
    gateway: (opts.wrapGateway ?? ((g) => g))(createCaseGateway(client, taskQueue)),
    jwtSecret: TEST_JWT_SECRET,
    subjectKey: TEST_SUBJECT_KEY,
    auditKey: TEST_AUDIT_KEY,
    cryptoProfile: profile,
    contentCipher,
    calendar,
    readiness: {
      database: () => database.ping(),
      pendingMigrations: () => pendingMigrations(database),
      temporal: async () => {
        await env.client.workflowService.getSystemInfo({});
      },
    },
    rateLimitPerMinute: 100_000,
    events: opts.events,
    notifier: opts.notifier,
    metrics,
    ...(opts.metricsToken === null ? {} : { metricsToken: opts.metricsToken ?? TEST_METRICS_TOKEN }),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.caseDeadline ? { caseDeadline: opts.caseDeadline } : {}),
    ...(opts.connectors ? { connectors: opts.connectors.names() } : {}),
    ...(opts.notificationChannels ? { notificationChannels: opts.notificationChannels } : {}),
  });
  await app.ready();
  return {
    app,
    database,
    worker,
    metrics,
    async login(username, password = DEMO_PASSWORD) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username, password },
      });
      if (res.statusCode !== 200) throw new Error(`login ${username} failed: ${res.statusCode} ${res.body}`);
      return `Bearer ${res.json().token}`;
    },
    async close() {
      await app.close();
      worker.shutdown();
      await running;
      if (!opts.database) await database.dispose();
    },
  };
}

/** A valid resident ID number (GB 11643 check digit) for tests. */
export const VALID_ID = '11010519491231002X';
export const VALID_CREDIT_CODE = '91350100M000100Y43';

export const startBody = (overrides: Record<string, unknown> = {}) => ({
  catalogCode: 'HJ-001',
  subject: { kind: 'person', name: '张三', idNumber: VALID_ID },
  fields: { declaredAddress: '淄博市张店区人民西路 1 号' },
  purpose: '社会保险参保登记',
  ...overrides,
});
