/**
 * The lock file is what `npm ci` installs on a fresh machine: these checks catch, before CI does, the ways it went
 * wrong once (issue 8) - optional platform packages missing from the lock, dependencies that declare a newer Node
 * than ours, and install scripts nobody decided about.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

interface LockEntry {
  version?: string;
  engines?: { node?: string } | string[];
  optionalDependencies?: Record<string, string>;
  hasInstallScript?: boolean;
}
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, LockEntry> };
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
  engines: { node: string };
  allowScripts?: Record<string, boolean>;
};
const entries = Object.entries(lock.packages).filter(([path]) => path !== '');
const nameOf = (path: string) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);

/** Where npm would resolve `dep` from the package installed at `path`: its own node_modules, then each parent's. */
function resolveFrom(path: string, dep: string): string | undefined {
  let base = path;
  for (;;) {
    const candidate = `${base}/node_modules/${dep}`;
    if (lock.packages[candidate]) return candidate;
    const parent = base.lastIndexOf('/node_modules/');
    if (parent < 0) return lock.packages[`node_modules/${dep}`] ? `node_modules/${dep}` : undefined;
    base = base.slice(0, parent);
  }
}

describe('package-lock.json installs the same everywhere', () => {
  it('lists every optional dependency of every package (all platforms), so npm ci does not refuse it', () => {
    const missing = entries.flatMap(([path, entry]) =>
      Object.keys(entry.optionalDependencies ?? {})
        .filter((dep) => !resolveFrom(path, dep))
        .map((dep) => `${nameOf(path)} -> ${dep}`),
    );
    expect(missing).toEqual([]);
  });

  it('holds no package whose declared Node engine excludes the oldest Node this project supports', () => {
    const oldest = semver.minVersion(pkg.engines.node)?.version;
    expect(oldest).toBeTruthy();
    const refusing = entries
      .filter(([, e]) => !Array.isArray(e.engines) && typeof e.engines?.node === 'string')
      .filter(([, e]) => !semver.satisfies(oldest as string, (e.engines as { node: string }).node))
      .map(([path, e]) => `${nameOf(path)}@${e.version} needs node ${(e.engines as { node: string }).node}`);
    expect(refusing).toEqual([]);
  });

  it('decides every install script on purpose (allowScripts in package.json)', () => {
    const undecided = entries
      .filter(([, e]) => e.hasInstallScript)
      .map(([path]) => nameOf(path))
      .filter((name) => typeof pkg.allowScripts?.[name] !== 'boolean');
    expect(undecided).toEqual([]);
  });

  it('agrees with package.json (npm ci --dry-run accepts it)', () => {
    // Throws, failing the test, when npm ci would refuse the lock file.
    execFileSync('npm', ['ci', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund'], {
      stdio: 'pipe',
      timeout: 60_000,
    });
  });
});
