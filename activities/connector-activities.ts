/**
 * The connector query of an automatic answer, as an activity: it asks the catalog item's data source about
 * the case's subject and says whether the answer is clear. Every attempt is audited like a read of case
 * content (`connector.query`, by the system acting for the issuing unit), whatever its outcome; errors are
 * thrown as the named failures of activities/connectors.ts so the workflow's retry policy and its reasons
 * apply. Nothing of the source's raw answer is returned, only the mapped fields and its evidence hash.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import type {
  ConnectorActivities,
  ConnectorQueryInput,
  ConnectorQueryResult,
} from '../workflows/activity-contract.ts';
import { systemActorId } from '../workflows/definitions.ts';
import { type ConnectorRegistry, connectorNotConfigured, evaluate } from './connectors.ts';

/** One audit row (the API's `recordAudit`, bound to the database and the audit key by the composer). */
export type AuditWriter = (entry: {
  actorId: string;
  actorUnit: string;
  action: string;
  caseId: string;
  purpose: string;
  outcome: 'allowed' | 'error';
  detail: Record<string, unknown>;
}) => Promise<unknown>;

export interface ConnectorActivityDeps {
  connectors: ConnectorRegistry;
  audit: AuditWriter;
  log: Logger;
  /** Told of each finished query (benchmarks, metrics): milliseconds and outcome. */
  onQuery?: (ms: number, outcome: string, connector: string) => void;
}

const attemptOf = (): number => {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
};

export function createConnectorActivities(deps: ConnectorActivityDeps): ConnectorActivities {
  return {
    async queryConnector(input: ConnectorQueryInput): Promise<ConnectorQueryResult> {
      const started = Date.now();
      const queriedAt = new Date(started).toISOString();
      const connector = deps.connectors.get(input.connector);
      const attempt = attemptOf();
      const audit = (outcome: 'allowed' | 'error', detail: Record<string, unknown>) =>
        deps.audit({
          actorId: systemActorId(input.connector),
          actorUnit: input.issuingUnit,
          action: 'connector.query',
          caseId: input.caseId,
          purpose: '自动核验（数据共享查询）',
          outcome,
          detail: {
            connector: input.connector,
            kind: connector?.kind ?? null,
            attempt,
            ms: Date.now() - started,
            ...detail,
          },
        });
      try {
        if (!connector) throw connectorNotConfigured(input.connector);
        const q = { caseId: input.caseId, subject: input.subject, fields: input.fields };
        const { response, records } = await connector.fetch(q);
        const outcome = evaluate(connector.mapping, q, response, records);
        await audit('allowed', {
          outcome: outcome.outcome,
          records: records.length,
          evidenceHash: outcome.evidenceHash,
        });
        deps.onQuery?.(Date.now() - started, outcome.outcome, input.connector);
        return { ...outcome, source: connector.label, queriedAt };
      } catch (err) {
        const type = err instanceof ApplicationFailure ? err.type : 'Error';
        const reason = err instanceof ApplicationFailure ? err.message : '数据源查询出错';
        await audit('error', { outcome: 'error', error: type, reason }).catch((auditErr) =>
          deps.log.error({ err: auditErr }, 'could not audit a connector query'),
        );
        deps.log.warn({ connector: input.connector, attempt, error: type }, 'connector query failed');
        deps.onQuery?.(Date.now() - started, 'error', input.connector);
        throw err instanceof ApplicationFailure
          ? err
          : ApplicationFailure.create({
              type: 'ConnectorUnavailable',
              message: `数据源服务异常（${reason}）`,
            });
      }
    },
  };
}
