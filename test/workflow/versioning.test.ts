/**
 * Proof of the versioning policy (README, "Changing the case workflow"): the same change to the case workflow —
 * a new timer before its first activity — made under `patched()` replays every recorded history, and made
 * without it fails the replay with a non-determinism error. Both variants are built from the real workflow
 * source in a scratch copy (test-results/, git-ignored), so the proof follows the code as it changes.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { afterAll, describe, expect, it } from 'vitest';
import { dataConverter } from '../../app/temporal.ts';
import { PROJECT_ROOT as PROJECT_ROOT_DIR } from '../../app/temporal-tools.ts';
import { TEST_PAYLOAD_KEY } from '../support/temporal.ts';
import { HISTORIES_DIR, historyFromText, RECORD_HISTORIES } from './support.ts';

const ANCHOR = /export async function verificationCase\([^)]*\): Promise<CaseSnapshot> \{\n/;
const scratch = path.join(PROJECT_ROOT_DIR, 'test-results', `versioning-${process.pid}`);

/** A copy of workflows/ whose case workflow starts with `change` (and imports what it needs). */
async function variant(name: string, change: string) {
  const dir = path.join(scratch, name, 'workflows');
  mkdirSync(dir, { recursive: true });
  cpSync(path.join(PROJECT_ROOT_DIR, 'workflows'), dir, { recursive: true });
  const file = path.join(dir, 'verification-case.ts');
  const source = readFileSync(file, 'utf8');
  expect(source).toMatch(ANCHOR); // the proof must notice if the workflow's entry point is renamed
  writeFileSync(
    file,
    `import { patched as proofPatched, sleep as proofSleep } from '@temporalio/workflow';\n${source.replace(
      ANCHOR,
      (m) => `${m}  ${change}\n`,
    )}`,
  );
  return bundleWorkflowCode({
    workflowsPath: path.join(dir, 'index.ts'),
    failureConverterPath: path.join(dir, 'failure-converter.ts'),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
  });
}

async function replayAll(bundle: Awaited<ReturnType<typeof variant>>) {
  const names = readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json'));
  // The change is made to the case workflow: its histories (others, e.g. calendarRetime, are not concerned).
  const histories = names
    .map((f) => ({
      workflowId: f,
      history: historyFromText(readFileSync(new URL(f, HISTORIES_DIR), 'utf8')),
    }))
    .filter(
      (h) =>
        h.history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ===
        'verificationCase',
    );
  const failures = new Map<string, string>();
  for await (const r of Worker.runReplayHistories(
    { workflowBundle: bundle, dataConverter: dataConverter(TEST_PAYLOAD_KEY) },
    histories,
  )) {
    if (r.error) failures.set(r.workflowId, `${r.error.name}: ${r.error.message.slice(0, 120)}`);
  }
  return { total: histories.length, failures };
}

describe.skipIf(RECORD_HISTORIES)('the versioning policy, proved on the recorded histories', () => {
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('a change made without patched() breaks every running case', async () => {
    const { total, failures } = await replayAll(await variant('unpatched', "await proofSleep('1 second');"));
    expect(total).toBeGreaterThan(10);
    expect(failures.size).toBe(total);
    for (const failure of failures.values())
      expect(failure).toMatch(/DeterminismViolationError|[Nn]ondetermin/);
  }, 120_000);

  it('the same change under patched() replays them all', async () => {
    const { total, failures } = await replayAll(
      await variant('patched', "if (proofPatched('versioning-proof')) await proofSleep('1 second');"),
    );
    expect(total).toBeGreaterThan(10);
    expect([...failures]).toEqual([]);
  }, 120_000);
});
