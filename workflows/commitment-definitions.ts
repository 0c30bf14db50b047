/**
 * The 告知承诺 check's contract (seed 004, 事中事后核查): its input, its state as others see it, its Updates and
 * the activities it asks for. Defined here so the API imports them without pulling in workflow code.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { Actor, CaseInput } from './definitions.ts';

/**
 * scheduled: waiting for the check's due time; checking: its verification case runs; awaiting_confirmation: the
 * case did not confirm the commitment and the requesting unit must decide in writing; fulfilled: 承诺属实;
 * false: 承诺不实 (a credit record bars the subject).
 */
export type CommitmentStatus = 'scheduled' | 'checking' | 'awaiting_confirmation' | 'fulfilled' | 'false';
export const COMMITMENT_STATUSES: readonly CommitmentStatus[] = [
  'scheduled',
  'checking',
  'awaiting_confirmation',
  'fulfilled',
  'false',
];

export interface CommitmentInput {
  commitmentId: string;
  requestingUnit: string;
  /** When the requesting unit recorded the commitment: the check's period counts from here. */
  recordedAt: string;
  /** The check is due at the opening of this working day after `recordedAt` (COMMITMENT_CHECK_WORKING_DAYS; 0: at once). */
  checkWorkingDays: number;
  /** A false commitment bars the subject for this many days (COMMITMENT_BAR_DAYS). */
  barDays: number;
  /** The check's verification case as the API validated it; the check adds its ID and receipt time. */
  check: Omit<CaseInput, 'caseId' | 'requestedAt' | 'opening'>;
  /** The response letter's field titles (the catalog item's response template), for the written findings. */
  responseTitles?: Record<string, string>;
}

export interface CommitmentState {
  commitmentId: string;
  status: CommitmentStatus;
  checkDueAt?: string;
  caseId?: string;
  caseDocNumber?: string;
  /** The case's answer (consistent, inconsistent …) or how it ended (closed_after_return, offline …). */
  checkOutcome?: string;
  /** The asked agency's help or refusal in writing: the response letter or the return reasons. */
  checkNote?: string;
  checkedAt?: string;
  decision?: 'true' | 'false';
  decisionReason?: string;
  decidedBy?: string;
  decidedAt?: string;
  /** Set with a false decision: the end of the subject's bar. */
  barredUntil?: string;
}

export interface ConfirmCommitmentInput {
  actor: Actor;
  /** `true`: the commitment holds (属实); `false`: it was false (不实) → credit record. */
  verdict: 'true' | 'false';
  reason: string;
}

/** The verification case of a commitment's check: one per commitment, so a retried start finds it. */
export const commitmentCaseId = (commitmentId: string): string => `case-${commitmentId}`;

/** Answers once the check's due time is known (update-with-start: the API shows it at once). */
export const commitmentScheduledUpdate = defineUpdate<CommitmentState, []>('commitmentScheduled');
export const confirmCommitmentUpdate = defineUpdate<CommitmentState, [ConfirmCommitmentInput]>(
  'confirmCommitment',
);
export const commitmentQuery = defineQuery<CommitmentState>('commitment');

export interface CommitmentActivities {
  /** The opening of the `workingDays`-th working day after `from` (the city's calendar). */
  commitmentCheckDue(input: { from: string; workingDays: number }): Promise<string>;
  /** Writes the commitment's status columns; idempotent (the state is written whole). */
  projectCommitment(input: { state: CommitmentState }): Promise<void>;
  /** Writes the credit record of a false commitment and the commitment's status, in one transaction; idempotent. */
  recordCreditRecord(input: { state: CommitmentState; actor: Actor }): Promise<void>;
}
