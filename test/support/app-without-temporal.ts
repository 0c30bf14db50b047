/**
 * The API app for tests that never reach a case: no Temporal (a gateway that throws if called), the
 * given database, a rate limit high enough not to interfere unless the test sets one.
 */
import { createCalendarSource } from '../../activities/calendar-source.ts';
import { type ApiDeps, type App, buildApp } from '../../api/app.ts';
import type { CaseGateway } from '../../api/services/case-gateway.ts';
import { TEST_JWT_SECRET } from './api.ts';
import type { TestDatabase } from './databases.ts';
import { silentLog, TEST_AUDIT_KEY, TEST_CONTENT_CIPHER, TEST_SUBJECT_KEY } from './temporal.ts';

const noGateway = new Proxy({} as CaseGateway, {
  get: () => () => {
    throw new Error('no Temporal in these tests');
  },
});

export async function buildAppWithoutTemporal(
  database: TestDatabase,
  extra: Partial<ApiDeps> = {},
): Promise<App> {
  const app = await buildApp({
    log: silentLog,
    db: database.db,
    gateway: noGateway,
    jwtSecret: TEST_JWT_SECRET,
    subjectKey: TEST_SUBJECT_KEY,
    auditKey: TEST_AUDIT_KEY,
    contentCipher: TEST_CONTENT_CIPHER,
    calendar: createCalendarSource(database.db),
    readiness: { database: async () => {}, pendingMigrations: async () => 0, temporal: async () => {} },
    rateLimitPerMinute: 100_000,
    ...extra,
  });
  await app.ready();
  return app;
}
