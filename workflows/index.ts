// The worker's workflowsPath: every workflow type this task queue runs.

export { calendarRetime } from './calendar-retime.ts';
export { verificationCase } from './verification-case.ts';
