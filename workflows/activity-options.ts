/**
 * How the workflows retry their activities: one place, with the reasons. Activities report errors that
 * retrying cannot fix as an `ApplicationFailure` with one of the named types below (retryable by itself:
 * the policy of the calling workflow decides). Everything else (a database outage, a timeout, a lost
 * worker) is transient and retried with backoff.
 *
 * Changing these options changes no command of a workflow's history: replay is unaffected.
 */
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';

/** Error types an activity throws when retrying cannot help. */
export const NON_RETRYABLE = {
  /** A unit code that is not in the registry (the numbering activities). */
  unknownUnit: 'UnknownUnit',
  /** An argument the activity cannot work with: an invalid instant, a malformed calendar change. */
  invalidInput: 'InvalidActivityInput',
} as const;

const BACKOFF = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' } as const;

/**
 * The verification case. A case must never be lost: the projection and the working-time calculations
 * retry transient errors without a maximum (a database outage of an hour leaves the case waiting, not
 * failed; a pending activity shows its attempts and last error in the Temporal UI).
 *
 * Only an unknown unit is non-retryable: the numbering activities throw it, and they run where failing
 * is harmless — at the start, before the case exists (the start is refused), and inside the respond
 * Update before the case changes (that Update fails, the case goes on). `InvalidActivityInput` is
 * deliberately not listed here: the calculations also run in signal handlers and the main loop, where
 * a failed activity would fail the whole case; retrying keeps the case recoverable by a fix.
 */
export const CASE_ACTIVITY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { ...BACKOFF, nonRetryableErrorTypes: [NON_RETRYABLE.unknownUnit] },
};

/**
 * Housekeeping workflows (calendar re-timing, absence hand-over). They can give up: the work they stand
 * for stays recorded in the database (the "re-timing pending" marker, the absence row) and the API runs
 * a failed one again at its next start (`resumePendingRetimes`, `resumeAbsences`; the gateway lets a
 * failed run be started again). So a bad argument fails at once, and anything else gives up after ten
 * attempts (about 4 minutes of backoff) instead of holding a workflow open forever.
 */
export const HOUSEKEEPING_ACTIVITY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { ...BACKOFF, maximumAttempts: 10, nonRetryableErrorTypes: [NON_RETRYABLE.invalidInput] },
};

/**
 * The case's own steps run as local activities (see verification-case.ts, patches `opening-prepared` and
 * `local-steps`): retried without a maximum like the normal ones, the unknown unit excepted (the reply
 * number, refused inside the respond Update before the case changes); past `localRetryThreshold` the SDK
 * waits between attempts with a durable timer instead of holding the workflow task.
 */
export const CASE_LOCAL_ACTIVITY_OPTIONS: LocalActivityOptions = {
  startToCloseTimeout: '30 seconds',
  localRetryThreshold: '10 seconds',
  retry: { ...BACKOFF, nonRetryableErrorTypes: [NON_RETRYABLE.unknownUnit] },
};

/** Error types of the connector activity (activities/connectors.ts); the workflow words its reasons by them. */
export const CONNECTOR_FAILURES = {
  /** The source did not answer within the connector's timeout (retried). */
  timeout: 'ConnectorTimeout',
  /** A 5xx, a 429, a refused connection, an answer that is not the expected JSON (retried). */
  unavailable: 'ConnectorUnavailable',
  /** A 4xx: the source refused the request (bad signature, unknown key); retrying sends the same. */
  refused: 'ConnectorRefused',
  /** The catalog item names a connector this worker has no configuration for. */
  notConfigured: 'ConnectorNotConfigured',
} as const;

/**
 * The automatic answer's query of a data source (patch `connector-auto-answer`). Unlike the case's own steps
 * it gives up: three attempts (about 1 s and 2 s apart), each bounded by the connector's own timeout and by
 * `startToCloseTimeout`, at most a minute in all; then the case goes to a person with the reason. The SLA
 * runs meanwhile, so a slow source must not hold the case: a person can always answer first.
 */
export const CONNECTOR_ACTIVITY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '15 seconds',
  scheduleToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '5 seconds',
    maximumAttempts: 3,
    nonRetryableErrorTypes: [CONNECTOR_FAILURES.refused, CONNECTOR_FAILURES.notConfigured],
  },
};
