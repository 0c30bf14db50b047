/**
 * The audit log (Art. 10, 12): every read of case content and every action, allowed or refused, with
 * person, unit, time, purpose and source address. Append-only and chained: each row's MAC covers its
 * content and the previous row's MAC, so changing, removing or reordering a row breaks the chain.
 *
 * The MAC is HMAC-SHA-256 with AUDIT_KEY, a key kept outside the database (mac_version 2): someone who
 * can write the database but not read the key cannot rebuild the chain after rewriting rows. Rows
 * written before the key existed (mac_version 1, plain SHA-256) still verify, but only as an unbroken
 * prefix: a legacy row after a keyed one is refused, so nobody can downgrade the chain's tail. Removing
 * the last rows leaves an intact (shorter) chain; that is caught by the anchors (audit-anchors.ts).
 */
import { createHash, createHmac } from 'node:crypto';
import { asc, desc, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { auditLog } from '../../db/schema.ts';

/**
 * `attempted` is written before an action is sent to its workflow, and `allowed`/`denied`/`error` after,
 * naming it in `detail.attemptId`: a crash in between leaves the `attempted` row, so no action that may
 * have happened is missing from the log.
 */
export type AuditOutcome = 'allowed' | 'denied' | 'attempted' | 'error';
export const AUDIT_OUTCOMES: readonly AuditOutcome[] = ['allowed', 'denied', 'attempted', 'error'];

export interface AuditEntry {
  actorId?: string | null;
  actorUnit?: string | null;
  action: string;
  caseId?: string | null;
  purpose?: string | null;
  sourceIp?: string | null;
  outcome: AuditOutcome;
  detail?: Record<string, unknown>;
}

export const GENESIS_HASH = '0'.repeat(64);
export const LEGACY_MAC = 1;
export const KEYED_MAC = 2;
/** Serialises writers across processes so the chain has one order. */
const AUDIT_LOCK_KEY = 0x61756469;

/** The audit key of a database handle, bound once by whoever composes the system (buildApp, tests). */
const keys = new WeakMap<object, Buffer>();

export function bindAuditKey(db: Db, key: Buffer): void {
  if (key.length < 32) throw new Error('the audit key must be at least 32 bytes');
  keys.set(db, key);
}

function keyOf(db: Db): Buffer {
  const key = keys.get(db);
  // Fail closed: an audit row that anyone could recompute is worth no more than none.
  if (!key) throw new Error('no audit key is bound to this database (bindAuditKey)');
  return key;
}

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => a.localeCompare(b));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/** The row's MAC: HMAC-SHA-256 with the audit key (version 2), or the legacy unkeyed SHA-256 (version 1). */
export function auditHash(
  prevHash: string,
  row: AuditEntry & { at: Date },
  mac: { version: number; key?: Buffer },
): string {
  const body = canonical({
    at: row.at.toISOString(),
    actorId: row.actorId ?? null,
    actorUnit: row.actorUnit ?? null,
    action: row.action,
    caseId: row.caseId ?? null,
    purpose: row.purpose ?? null,
    sourceIp: row.sourceIp ?? null,
    outcome: row.outcome,
    detail: row.detail ?? {},
  });
  if (mac.version === LEGACY_MAC)
    return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
  if (!mac.key) throw new Error('a keyed audit MAC needs the audit key');
  return createHmac('sha256', mac.key).update(prevHash).update('\n').update(body).digest('hex');
}

/** Appends one row to the chain and returns its id. */
export async function recordAudit(db: Db, entry: AuditEntry): Promise<number> {
  const key = keyOf(db);
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`);
    const [last] = await tx
      .select({ hash: auditLog.hash })
      .from(auditLog)
      .orderBy(desc(auditLog.id))
      .limit(1);
    const prevHash = last?.hash ?? GENESIS_HASH;
    // Millisecond precision: what PostgreSQL keeps is what the MAC covers.
    const at = new Date(Math.floor(Date.now()));
    const [row] = await tx
      .insert(auditLog)
      .values({
        at,
        actorId: entry.actorId ?? null,
        actorUnit: entry.actorUnit ?? null,
        action: entry.action,
        caseId: entry.caseId ?? null,
        purpose: entry.purpose ?? null,
        sourceIp: entry.sourceIp ?? null,
        outcome: entry.outcome,
        detail: entry.detail ?? {},
        prevHash,
        macVersion: KEYED_MAC,
        hash: auditHash(prevHash, { ...entry, at }, { version: KEYED_MAC, key }),
      })
      .returning({ id: auditLog.id });
    if (!row) throw new Error('audit row not written');
    return row.id;
  });
}

/** The id of the last legacy (unkeyed) row, 0 if none. */
export async function lastLegacyAuditId(db: Db): Promise<number> {
  const [row] = await db
    .select({ id: sql<number | null>`max(${auditLog.id})` })
    .from(auditLog)
    .where(sql`${auditLog.macVersion} = ${LEGACY_MAC}`);
  return Number(row?.id ?? 0);
}

/** The newest row of the chain (what an anchor records), or undefined for an empty log. */
export async function latestAuditRow(db: Db): Promise<{ id: number; hash: string } | undefined> {
  const [last] = await db
    .select({ id: auditLog.id, hash: auditLog.hash })
    .from(auditLog)
    .orderBy(desc(auditLog.id))
    .limit(1);
  return last;
}

/** A (row id, MAC) pair recorded outside the database; see audit-anchors.ts. */
export interface AuditAnchor {
  id: number;
  hash: string;
  at?: string;
  /**
   * The last legacy (unkeyed) row when the anchor was written (0: none). Legacy rows are never written
   * again, so a legacy row after it is a forgery (a rewrite of keyed rows as plain SHA-256).
   */
  legacyUntil?: number;
}

export interface ChainReport {
  rows: number;
  ok: boolean;
  /** Rows still verified as legacy unkeyed SHA-256 (the prefix written before AUDIT_KEY). */
  legacyRows: number;
  /** Anchors checked against the database. */
  anchors: number;
  /** The first row whose MAC or link does not match, or the anchored row that is gone or different. */
  brokenAt?: number;
  reason?: string;
}

export async function verifyAuditChain(
  db: Db,
  opts: { key: Buffer; anchors?: readonly AuditAnchor[]; batch?: number },
): Promise<ChainReport> {
  const batch = opts.batch ?? 5000;
  const anchors = new Map<number, string>();
  for (const a of opts.anchors ?? []) anchors.set(a.id, a.hash);
  const legacyLimit = Math.min(
    Number.POSITIVE_INFINITY,
    ...(opts.anchors ?? []).flatMap((a) => (a.legacyUntil === undefined ? [] : [a.legacyUntil])),
  );
  let prev = GENESIS_HASH;
  let rows = 0;
  let legacyRows = 0;
  let keyedSeen = false;
  let afterId = 0;
  const checked = new Set<number>();
  const broken = (brokenAt: number, reason: string): ChainReport => ({
    rows,
    ok: false,
    legacyRows,
    anchors: anchors.size,
    brokenAt,
    reason,
  });
  for (;;) {
    const page = await db
      .select()
      .from(auditLog)
      .where(sql`${auditLog.id} > ${afterId}`)
      .orderBy(asc(auditLog.id))
      .limit(batch);
    for (const r of page) {
      if (r.prevHash !== prev)
        return broken(r.id, 'prev_hash does not link to the row before (a row was removed or reordered)');
      if (r.macVersion === LEGACY_MAC && r.id > legacyLimit)
        return broken(
          r.id,
          `an unkeyed (legacy) row after the last legacy row recorded in the anchors (id ${legacyLimit}): the row was rewritten`,
        );
      if (r.macVersion === LEGACY_MAC && keyedSeen)
        return broken(r.id, 'an unkeyed (legacy) row after keyed rows (the row was changed or inserted)');
      if (r.macVersion !== LEGACY_MAC && r.macVersion !== KEYED_MAC)
        return broken(r.id, `unknown mac_version ${r.macVersion} (the row was changed)`);
      const expected = auditHash(
        prev,
        {
          at: r.at,
          actorId: r.actorId,
          actorUnit: r.actorUnit,
          action: r.action,
          caseId: r.caseId,
          purpose: r.purpose,
          sourceIp: r.sourceIp,
          outcome: r.outcome as AuditOutcome,
          detail: r.detail,
        },
        { version: r.macVersion, key: opts.key },
      );
      if (r.hash !== expected) return broken(r.id, 'content does not match its MAC (the row was changed)');
      const anchored = anchors.get(r.id);
      if (anchored !== undefined) checked.add(r.id);
      if (anchored !== undefined && anchored !== r.hash)
        return broken(r.id, 'the row differs from its anchor outside the database (the chain was rewritten)');
      if (r.macVersion === KEYED_MAC) keyedSeen = true;
      else legacyRows++;
      prev = r.hash;
      rows++;
      afterId = r.id;
    }
    if (page.length < batch) break;
  }
  // An anchored row that is not in the chain was deleted; beyond its end, the tail was cut off.
  const missing = [...anchors.keys()].filter((id) => !checked.has(id)).sort((a, b) => a - b);
  if (missing[0] !== undefined)
    return broken(
      missing[0],
      missing[0] > afterId
        ? `the anchored row is missing: rows at the end were deleted (the chain now ends at id ${afterId})`
        : 'the anchored row is missing (it was deleted)',
    );
  return { rows, ok: true, legacyRows, anchors: anchors.size };
}
