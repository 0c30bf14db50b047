// The worker's workflowsPath: every workflow type this task queue runs.
export { verificationCase } from './verification-case.ts';
