/**
 * The bare Temporal baseline of bench/throughput.ts: the case's shape (start with an Update that answers
 * once the case is open, then register and respond as Updates, then complete) with no activities, no
 * database and no HTTP, so the ratio against ours shows what our work per case costs.
 */
import { condition, defineUpdate, setHandler } from '@temporalio/workflow';

export const bareOpened = defineUpdate<string>('opened');
export const bareRegister = defineUpdate<string, [string]>('register');
export const bareRespond = defineUpdate<string, [string]>('respond');

export async function bareCase(caseId: string): Promise<string> {
  let status = 'awaiting_registration';
  setHandler(bareOpened, () => caseId);
  setHandler(bareRegister, (who) => {
    status = 'registered';
    return who;
  });
  setHandler(bareRespond, (who) => {
    status = 'answered';
    return who;
  });
  await condition(() => status === 'answered');
  return status;
}
