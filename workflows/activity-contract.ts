/**
 * What the case workflow asks of the outside world. The workflow imports these types only; the worker
 * registers the implementations from activities/ (built by a factory with their dependencies).
 */
import type { CaseInput, CaseSnapshot, ResponseResult, SlaTier } from './definitions.ts';

export interface CaseEvent {
  seq: number;
  type: string;
  at: string;
  actorId?: string;
  actorUnit?: string;
  onBehalfOf?: string;
  reason?: string;
  data?: Record<string, unknown>;
}

export type Audience =
  | 'assignee_and_backup'
  | 'issuing_unit'
  | 'requesting_unit'
  | 'office'
  | { staffId: string };

export interface NotificationRequest {
  kind: string;
  audience: Audience;
  message: string;
}

export interface DeadlineResult {
  effectiveReceivedAt: string;
  dueAt: string;
  flags: string[];
  /** Instants at which the reminder fractions of the SLA (in working time) have elapsed. */
  reminderAt: string[];
}

export interface ProjectCaseInput {
  snapshot: CaseSnapshot;
  event: CaseEvent;
  notifications?: NotificationRequest[];
  /** Only with the first event: the request's content (subject and fields), kept for the case's units. */
  input?: CaseInput;
}

export interface CaseActivities {
  allocateDocNumber(input: { caseId: string; unitCode: string; at: string }): Promise<string>;
  /** The issuing unit's response letter number (复函号), from its own sequence; idempotent on `key`. */
  allocateReplyNumber(input: { key: string; unitCode: string; at: string }): Promise<string>;
  computeDeadline(input: {
    receivedAt: string;
    tier: SlaTier;
    reminderFractions: number[];
  }): Promise<DeadlineResult>;
  /** The next working day's opening strictly after `after`: when the office is reminded again. */
  nextWorkingOpening(input: { after: string }): Promise<string>;
  workingMinutesBetween(input: { from: string; to: string }): Promise<number>;
  /** Writes the case row, its event, escalations and notifications: idempotent on (case, seq). */
  projectCase(input: ProjectCaseInput): Promise<void>;
}

/** The query of a catalog item's connector for the automatic answer (one normal activity, audited). */
export interface ConnectorQueryInput {
  caseId: string;
  connector: string;
  /** The issuing unit the system acts for (the audit row's unit). */
  issuingUnit: string;
  subject: CaseInput['subject'];
  fields: Record<string, unknown>;
}

export type ConnectorQueryResult =
  | {
      outcome: 'match';
      result: ResponseResult;
      fields: Record<string, unknown>;
      /** The data source as people read it (数据来源). */
      source: string;
      queriedAt: string;
      /** SHA-256 (hex) of the source's canonical JSON answer. */
      evidenceHash: string;
    }
  | {
      outcome: 'no_match' | 'ambiguous' | 'mismatch';
      /** Why a person must answer (Chinese). */
      reason: string;
      source: string;
      queriedAt: string;
      evidenceHash: string;
    };

export interface ConnectorActivities {
  queryConnector(input: ConnectorQueryInput): Promise<ConnectorQueryResult>;
}
