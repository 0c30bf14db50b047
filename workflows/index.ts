// The worker's workflowsPath: every workflow type this task queue runs.

export { absenceHandOver } from './absence-hand-over.ts';
export { batchStart } from './batch-start.ts';
export { bulkAction } from './bulk-action.ts';
export { calendarRetime } from './calendar-retime.ts';
export { catalogChange } from './catalog-change.ts';
export { commitmentCheck } from './commitment.ts';
export { complaint } from './complaint.ts';
export { dispute } from './dispute.ts';
export { verificationCase } from './verification-case.ts';
