/**
 * What the connector workflow tests share: a clear match from a test data source, and the real case
 * activities with a `queryConnector` the test writes (its calls counted).
 */
import type { Db } from '../../db/client.ts';
import type {
  CaseActivities,
  ConnectorQueryInput,
  ConnectorQueryResult,
} from '../../workflows/activity-contract.ts';
import { caseInput, realCaseActivities, type TestCalendar, uniqueCaseId } from './support.ts';

export const HASH = 'a'.repeat(64);
export const SOURCE = '测试户籍数据源';

export const match = (fields = { registeredAddress: '淄博市张店区人民西路 1 号' }): ConnectorQueryResult => ({
  outcome: 'match',
  result: 'consistent',
  fields,
  source: SOURCE,
  queriedAt: new Date().toISOString(),
  evidenceHash: HASH,
});

/** The real case activities plus a `queryConnector` the test writes; its calls are counted. */
export function activitiesWith(
  db: Db,
  calendar: TestCalendar,
  query: (input: ConnectorQueryInput) => Promise<ConnectorQueryResult>,
): CaseActivities & { calls: ConnectorQueryInput[] } {
  const calls: ConnectorQueryInput[] = [];
  return Object.assign(realCaseActivities(db, calendar), {
    calls,
    queryConnector: async (input: ConnectorQueryInput) => {
      calls.push(input);
      return query(input);
    },
  });
}

export const connectorInput = (name: string, start: Date) =>
  caseInput(uniqueCaseId(name), start, { connector: 'hukou-test' });
