/**
 * Composition of the running system from its parts, shared by the three entry points: the all-in-one
 * embedded start (main.ts), and the separate API and worker processes of a deployment.
 */

import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createAbsenceActivities } from '../activities/absence-activities.ts';
import { createCalendarActivities } from '../activities/calendar-activities.ts';
import { createCalendarSource } from '../activities/calendar-source.ts';
import { createCaseActivities } from '../activities/case-activities.ts';
import { createCommitmentActivities } from '../activities/commitment-activities.ts';
import { createComplaintActivities } from '../activities/complaint-activities.ts';
import { createConnectorActivities } from '../activities/connector-activities.ts';
import {
  type ConnectorConfig,
  type ConnectorRegistry,
  createConnectorRegistry,
} from '../activities/connectors.ts';
import { createDisputeActivities } from '../activities/dispute-activities.ts';
import {
  allNotifiers,
  channelNames,
  createNotificationDelivery,
} from '../activities/notification-channels.ts';
import { webhookNotifier } from '../activities/notifiers.ts';
import { type CaseDeadline, deadlineWithReminders } from '../activities/opening.ts';
import { type App, buildApp } from '../api/app.ts';
import { createBulkActivities } from '../api/routes/case-actions.ts';
import { bindAuditKey, recordAudit } from '../api/services/audit.ts';
import { startAuditAnchoring } from '../api/services/audit-anchors.ts';
import { startAuditPurge } from '../api/services/audit-retention.ts';
import { createBatchActivities } from '../api/services/batches.ts';
import { resumePendingRetimes } from '../api/services/calendar-changes.ts';
import { createCaseGateway } from '../api/services/case-gateway.ts';
import { createCatalogChangeActivities } from '../api/services/catalog-changes.ts';
import { resealLegacyContent } from '../api/services/content-reseal.ts';
import {
  createLocalLiveEvents,
  createPgLiveEvents,
  type LiveEvents,
  liveEventHooks,
} from '../api/services/live-events.ts';
import { processMetrics } from '../api/services/metrics.ts';
import { pgRateLimitStore } from '../api/services/rate-limit-store.ts';
import { resumeAbsences } from '../api/services/reference-data.ts';
import { type Database, openDatabase } from '../db/client.ts';
import { migrate, pendingMigrations } from '../db/migrate.ts';
import { seedBase, seedDemo } from '../db/seed.ts';
import { createContentCipher } from '../domain/content-cipher.ts';
import type { CryptoProfile } from '../domain/crypto-profile.ts';
import type { CaseActivities } from '../workflows/activity-contract.ts';
import type { AppConfig } from './config.ts';
import { type MetricsServer, startMetricsServer } from './metrics-server.ts';
import { PayloadCipherCodec } from './payload-codec.ts';
import type { Secrets } from './secrets.ts';
import { connectWorker, createCaseWorker, type WorkerTuning } from './temporal.ts';

export async function openAppDatabase(config: AppConfig, log: Logger): Promise<Database> {
  const database = config.databaseUrl
    ? await openDatabase(
        { kind: 'postgres', url: config.databaseUrl, max: config.dbPoolSize },
        {
          onIdleConnectionError: (err) =>
            log.warn({ err }, 'PostgreSQL: idle pooled connection lost; replaced'),
        },
      )
    : await openDatabase({ kind: 'pglite', dataDir: path.join(config.dataDir, 'pglite') });
  const { applied } = await migrate(database);
  if (applied) log.info({ applied }, 'database migrations applied');
  await seedBase(database.db);
  if (config.seedDemo) {
    const { created } = await seedDemo(database.db);
    if (created) log.info('demo data seeded');
  }
  return database;
}

/**
 * DEV_SLA_SECONDS: every deadline is that many real seconds after receipt (demonstrations, browser tests).
 * One function for the worker's deadline activity and the API's opening deadline, so both always agree.
 */
function demoSlaDeadline(seconds: number): CaseDeadline {
  return async ({ receivedAt, reminderFractions }) => {
    const start = new Date(receivedAt).getTime();
    return {
      effectiveReceivedAt: receivedAt,
      dueAt: new Date(start + seconds * 1000).toISOString(),
      flags: ['demo_sla'],
      reminderAt: reminderFractions.map((f) => new Date(start + f * seconds * 1000).toISOString()),
    };
  };
}

function withDemoSla(activities: CaseActivities, seconds: number, log: Logger): CaseActivities {
  log.warn({ seconds }, 'DEV_SLA_SECONDS is set: deadlines are not the legal ones');
  return {
    ...activities,
    computeDeadline: demoSlaDeadline(seconds),
    async nextWorkingOpening({ after }) {
      return new Date(new Date(after).getTime() + seconds * 1000).toISOString();
    },
  };
}

const liveBuses = new WeakMap<Database, LiveEvents>();

/**
 * One live-event bus per database: in-process with PGlite (API and worker share the process), PostgreSQL
 * LISTEN/NOTIFY with a server, so separate API and worker processes reach each other's streams.
 */
export function liveEventsFor(config: AppConfig, database: Database, log: Logger): LiveEvents {
  let bus = liveBuses.get(database);
  if (!bus) {
    const busLog = log.child({ component: 'live-events' });
    bus = config.databaseUrl
      ? createPgLiveEvents({ db: database.db, url: config.databaseUrl, log: busLog })
      : createLocalLiveEvents(busLog);
    liveBuses.set(database, bus);
  }
  return bus;
}

/**
 * The worker's slots follow the database pool: nearly every activity holds one connection for one
 * transaction, so more activities at once than connections would only queue inside the pool, their
 * start-to-close timeouts running, while the server believes them started. Twice the pool keeps the pool
 * busy while each slot's activity also spends time outside its transaction (decoding, encrypting,
 * delivering). PGlite is one connection in this process: a few slots are enough.
 */
export function workerTuning(opts: { connections: number; cachedCases: number }): WorkerTuning {
  const activitySlots = Math.max(4, 2 * opts.connections);
  return {
    maxConcurrentActivityTaskExecutions: activitySlots,
    maxConcurrentLocalActivityExecutions: activitySlots,
    maxCachedWorkflows: opts.cachedCases,
  };
}

/**
 * The connectors of the configuration (CONNECTORS_FILE) and any the process adds (the embedded demo data
 * service); SQL connectors without a URL of their own query the engine's database.
 */
export function openConnectors(
  config: AppConfig,
  database: Database,
  extra: ConnectorConfig[] = [],
): ConnectorRegistry {
  return createConnectorRegistry([...config.connectors, ...extra], { db: database.db });
}

/** The worker's connector activity: audited on the audit chain, as the system acting for the issuing unit. */
export function connectorActivities(
  database: Database,
  connectors: ConnectorRegistry,
  auditKey: Buffer,
  log: Logger,
  cryptoProfile: CryptoProfile = 'default',
) {
  // The same key and MAC version as every other writer of this database's audit chain.
  bindAuditKey(database.db, auditKey, cryptoProfile);
  return createConnectorActivities({
    connectors,
    audit: (entry) => recordAudit(database.db, entry),
    log: log.child({ component: 'connectors' }),
    onQuery: (ms, outcome, connector) => processMetrics().connectorQueried(connector, ms, outcome),
  });
}

export interface RunningWorker {
  worker: Worker;
  connection: NativeConnection;
  /** Resolves when the worker has stopped (after stop()), rejects if it fails. */
  done: Promise<void>;
  stop(): Promise<void>;
}

export async function startWorker(
  config: AppConfig,
  address: string,
  database: Database,
  secrets: Secrets,
  log: Logger,
  connectors: ConnectorRegistry = openConnectors(config, database),
): Promise<RunningWorker> {
  const connection = await connectWorker({ ...config.temporal, address });
  // 钉钉 / 企业微信 / SMS: the outbox the projection's notifications fan out into, drained by this worker.
  const delivery = createNotificationDelivery({
    db: database.db,
    calendar: createCalendarSource(database.db),
    config: config.notificationChannels,
    log: log.child({ component: 'notification-channels' }),
  });
  const realActivities = createCaseActivities({
    db: database.db,
    calendar: createCalendarSource(database.db),
    subjectKey: secrets.subjectKey,
    contentCipher: createContentCipher(secrets.payloadKeys, { profile: config.cryptoProfile }),
    log: log.child({ component: 'activities' }),
    metrics: processMetrics(),
    // Live inbox pushes first, then the configured delivery channel (webhook), if any.
    ...liveEventHooks(
      liveEventsFor(config, database, log),
      allNotifiers(
        [
          config.notifyWebhookUrl ? webhookNotifier(config.notifyWebhookUrl, log) : undefined,
          delivery.notifier,
        ],
        log,
      ),
    ),
  });
  const activities = config.devSlaSeconds
    ? withDemoSla(realActivities, config.devSlaSeconds, log)
    : realActivities;
  const worker = await createCaseWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities: {
      ...activities,
      ...createCalendarActivities(database.db),
      ...createAbsenceActivities(database.db),
      ...createCatalogChangeActivities(database.db, createCalendarSource(database.db)),
      ...createBulkActivities({
        db: database.db,
        auditKey: secrets.auditKey,
        cryptoProfile: config.cryptoProfile,
        metrics: processMetrics(),
      }),
      ...connectorActivities(database, connectors, secrets.auditKey, log, config.cryptoProfile),
      // Batches from Excel: each row's case opens as the API would open it (its deadline included).
      ...createBatchActivities({
        db: database.db,
        auditKey: secrets.auditKey,
        cryptoProfile: config.cryptoProfile,
        contentCipher: createContentCipher(secrets.payloadKeys, { profile: config.cryptoProfile }),
        caseDeadline: config.devSlaSeconds
          ? demoSlaDeadline(config.devSlaSeconds)
          : (input) => deadlineWithReminders(createCalendarSource(database.db), input),
        connectors: new Set(connectors.names()),
      }),
      ...createDisputeActivities({ db: database.db }),
      ...createCommitmentActivities({ db: database.db, calendar: createCalendarSource(database.db) }),
      ...createComplaintActivities({ db: database.db, calendar: createCalendarSource(database.db) }),
    },
    payloadKey: secrets.payloadKeys,
    cryptoProfile: config.cryptoProfile,
    log,
    metrics: processMetrics(),
    tuning: workerTuning({
      connections: database.kind === 'pglite' ? 1 : config.dbPoolSize,
      cachedCases: config.workerCachedCases,
    }),
  });
  const done = worker.run();
  // Audit retention (AUDIT_RETENTION_DAYS): the worker purges the old rows now and then; several workers
  // take turns under the audit writers' lock, and a purge with nothing older than the cut-off does nothing.
  const purge = config.auditPurgeHours
    ? startAuditPurge(database.db, {
        retentionDays: config.auditRetentionDays,
        intervalMs: config.auditPurgeHours * 3_600_000,
        log: log.child({ component: 'audit' }),
      })
    : undefined;
  delivery.start();
  return {
    worker,
    connection,
    done,
    stop: async () => {
      purge?.stop();
      await delivery.stop();
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done.catch(() => {});
      await connection.close();
    },
  };
}

export async function startApi(
  config: AppConfig,
  database: Database,
  client: Client,
  secrets: Secrets,
  log: Logger,
  connectorNames: readonly string[] = config.connectors.map((c) => c.name),
): Promise<App> {
  const gateway = createCaseGateway(client, config.temporal.taskQueue);
  const app = await buildApp({
    log,
    db: database.db,
    gateway,
    jwtSecret: secrets.jwtSecret,
    payloadCodec: new PayloadCipherCodec(secrets.payloadKeys, { profile: config.cryptoProfile }),
    rateLimitPerMinute: config.rateLimitPerMinute,
    // Several API processes on one PostgreSQL share their counters; the embedded system is one process.
    ...(config.databaseUrl ? { rateLimitStore: pgRateLimitStore(database.db) } : {}),
    trustProxy: config.trustProxy,
    subjectKey: secrets.subjectKey,
    auditKey: secrets.auditKey,
    cryptoProfile: config.cryptoProfile,
    contentCipher: createContentCipher(secrets.payloadKeys, { profile: config.cryptoProfile }),
    calendar: createCalendarSource(database.db),
    ...(config.devSlaSeconds ? { caseDeadline: demoSlaDeadline(config.devSlaSeconds) } : {}),
    connectors: connectorNames,
    commitmentPeriods: config.commitments,
    catalogDecisionDays: config.catalogDecisionDays,
    readiness: {
      database: () => database.ping(),
      pendingMigrations: () => pendingMigrations(database),
      temporal: async () => {
        await client.workflowService.getSystemInfo({});
      },
    },
    events: liveEventsFor(config, database, log),
    notifier: allNotifiers(
      [
        config.notifyWebhookUrl ? webhookNotifier(config.notifyWebhookUrl, log) : undefined,
        // The notices the API writes itself go into the same outbox; the worker sends them.
        createNotificationDelivery({
          db: database.db,
          calendar: createCalendarSource(database.db),
          config: config.notificationChannels,
          log: log.child({ component: 'notification-channels' }),
        }).notifier,
      ],
      log,
    ),
    metrics: processMetrics(),
    metricsToken: config.metrics.token,
    notificationChannels: channelNames(config.notificationChannels),
  });
  app.addHook('onClose', () => liveEventsFor(config, database, log).close());
  // Case content written before encryption at rest is sealed in the background (reads work meanwhile).
  resealLegacyContent(
    database.db,
    createContentCipher(secrets.payloadKeys, { profile: config.cryptoProfile }),
  )
    .then((n) => n && log.info({ cases: n }, 'sealed the plain case content of older cases'))
    .catch((err) => log.error({ err }, 'could not seal the case content of older cases'));
  // The newest audit row goes outside the database now and then, and once more on the way out.
  const anchoring = startAuditAnchoring(database.db, {
    file: config.auditAnchorFile,
    intervalMs: config.auditAnchorSeconds * 1000,
    log: log.child({ component: 'audit' }),
    onError: (err) => log.error({ err }, 'could not anchor the audit chain'),
  });
  app.addHook('onClose', () => anchoring.stop());
  await app.listen({ host: config.host, port: config.port });
  // Calendar changes committed while no re-timing could run (a crash, Temporal down): run them now, in the
  // background; each is one idempotent workflow.
  void resumePendingRetimes(database.db, gateway, log).catch((err) =>
    log.error({ err }, 'could not resume pending calendar re-timing'),
  );
  void resumeAbsences(database.db, gateway, log).catch((err) =>
    log.error({ err }, 'could not schedule the absences'),
  );
  return app;
}

/**
 * The process's `/metrics` on METRICS_PORT (loopback by default), when configured; once per process (the
 * embedded system's API and worker share one registry and one listener).
 */
export async function serveMetrics(config: AppConfig, log: Logger): Promise<MetricsServer | undefined> {
  if (config.metrics.port === undefined) return undefined;
  return startMetricsServer({
    metrics: processMetrics(),
    host: config.metrics.host,
    port: config.metrics.port,
    token: config.metrics.token,
    log,
  });
}
