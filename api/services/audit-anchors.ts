/**
 * Anchors of the audit chain outside the database. The MAC chain shows that no row was changed, but
 * deleting the newest rows leaves a shorter chain that is still intact. So the API process writes the
 * newest row's (id, MAC) to an append-only file and to its log, on a timer and when it stops; the
 * verifier then requires every anchored row to still be there with the same MAC. Whoever can write the
 * database can still remove the rows written since the last anchor, hence a short interval.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Db } from '../../db/client.ts';
import { type AuditAnchor, lastLegacyAuditId, latestAuditRow } from './audit.ts';

export interface AnchorTarget {
  /** Append-only file of JSON lines `{"at","id","hash","legacyUntil"}`. */
  file: string;
  log?: Pick<Logger, 'info'>;
}

/** Last anchor written by this process, per file, so an idle system does not repeat itself. */
const lastWritten = new Map<string, number>();
/** Legacy rows are never written again: their last id is looked up once per process and file. */
const legacyUntil = new Map<string, number>();

/** Writes the newest row's anchor if the chain grew since the last one; returns it, or undefined. */
export async function anchorAuditChain(db: Db, target: AnchorTarget): Promise<AuditAnchor | undefined> {
  const last = await latestAuditRow(db);
  if (!last || lastWritten.get(target.file) === last.id) return undefined;
  let legacy = legacyUntil.get(target.file);
  if (legacy === undefined) {
    legacy = await lastLegacyAuditId(db);
    legacyUntil.set(target.file, legacy);
  }
  const anchor: AuditAnchor = {
    at: new Date().toISOString(),
    id: last.id,
    hash: last.hash,
    legacyUntil: legacy,
  };
  mkdirSync(path.dirname(target.file), { recursive: true });
  appendFileSync(target.file, `${JSON.stringify(anchor)}\n`, { mode: 0o600, flag: 'a' });
  lastWritten.set(target.file, last.id);
  // A second copy, in whatever collects the logs (also outside the database).
  target.log?.info({ auditAnchor: anchor }, 'audit chain anchored');
  return anchor;
}

/** The anchors of a file; a line that is not an anchor is an error (the file was tampered with). */
export function readAnchors(file: string): AuditAnchor[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      let a: Partial<AuditAnchor>;
      try {
        a = JSON.parse(line);
      } catch {
        throw new Error(`${file}:${i + 1} is not an audit anchor`);
      }
      if (!Number.isInteger(a.id) || typeof a.hash !== 'string' || !/^[0-9a-f]{64}$/.test(a.hash))
        throw new Error(`${file}:${i + 1} is not an audit anchor`);
      if (a.legacyUntil !== undefined && !Number.isInteger(a.legacyUntil))
        throw new Error(`${file}:${i + 1} is not an audit anchor`);
      return { id: a.id as number, hash: a.hash, at: a.at, legacyUntil: a.legacyUntil };
    });
}

/** Anchors on a timer and once more when stopped; the caller stops it when the API closes. */
export function startAuditAnchoring(
  db: Db,
  target: AnchorTarget & { intervalMs: number; onError: (err: unknown) => void },
): { stop(): Promise<void> } {
  const tick = () => anchorAuditChain(db, target).catch(target.onError);
  const timer = setInterval(tick, target.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await tick();
    },
  };
}
