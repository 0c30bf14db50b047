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
 *
 * Under the SM profile (CRYPTO_PROFILE=sm) new rows are MACed with HMAC-SM3 (mac_version 3) instead of
 * HMAC-SHA-256; both are keyed, and a chain may mix them in any order (a profile switch, either way).
 *
 * Retention (AUDIT_RETENTION_DAYS, ≥ 183): `purgeAuditLog` deletes the oldest rows and records a checkpoint
 * (audit_checkpoints) of the last purged row's MAC, itself MACed with the audit key; the verifier starts the
 * chain from the newest checkpoint, so the remaining rows still verify end to end.
 */
import { createHash, createHmac } from 'node:crypto';
import { asc, count, desc, gte, lte, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { auditCheckpoints, auditLog } from '../../db/schema.ts';
import { type CryptoProfile, hmacSm3 } from '../../domain/crypto-profile.ts';

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
/** HMAC-SM3 with the audit key (CRYPTO_PROFILE=sm). */
export const SM_MAC = 3;
const KEYED_VERSIONS: readonly number[] = [KEYED_MAC, SM_MAC];
/** Serialises writers across processes so the chain has one order. */
const AUDIT_LOCK_KEY = 0x61756469;

/** The MAC version a profile writes. */
export function macVersionOf(profile: CryptoProfile = 'default'): number {
  return profile === 'sm' ? SM_MAC : KEYED_MAC;
}

interface BoundKey {
  key: Buffer;
  version: number;
}

/** The audit key of a database handle, bound once by whoever composes the system (buildApp, tests). */
const keys = new WeakMap<object, BoundKey>();

/** Binds the audit key and the profile new rows are MACed under (HMAC-SHA-256 by default, HMAC-SM3 for `sm`). */
export function bindAuditKey(db: Db, key: Buffer, profile: CryptoProfile = 'default'): void {
  if (key.length < 32) throw new Error('the audit key must be at least 32 bytes');
  keys.set(db, { key, version: macVersionOf(profile) });
}

function keyOf(db: Db): BoundKey {
  const bound = keys.get(db);
  // Fail closed: an audit row that anyone could recompute is worth no more than none.
  if (!bound) throw new Error('no audit key is bound to this database (bindAuditKey)');
  return bound;
}

function keyedMac(version: number, key: Buffer, ...parts: string[]): string {
  if (version === SM_MAC) return hmacSm3(key, ...parts).toString('hex');
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => a.localeCompare(b));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/**
 * The row's MAC: HMAC-SHA-256 (version 2) or HMAC-SM3 (version 3) with the audit key, or the legacy unkeyed
 * SHA-256 (version 1).
 */
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
  if (!KEYED_VERSIONS.includes(mac.version)) throw new Error(`unknown audit mac_version ${mac.version}`);
  return keyedMac(mac.version, mac.key, prevHash, '\n', body);
}

/** Appends one row to the chain and returns its id. */
export async function recordAudit(db: Db, entry: AuditEntry): Promise<number> {
  const { key, version } = keyOf(db);
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`);
    const [last] = await tx
      .select({ hash: auditLog.hash })
      .from(auditLog)
      .orderBy(desc(auditLog.id))
      .limit(1);
    // Every row purged: the chain goes on from the last purged row's MAC.
    const [checkpoint] = last
      ? []
      : await tx
          .select({ hash: auditCheckpoints.throughHash })
          .from(auditCheckpoints)
          .orderBy(desc(auditCheckpoints.id))
          .limit(1);
    const prevHash = last?.hash ?? checkpoint?.hash ?? GENESIS_HASH;
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
        macVersion: version,
        hash: auditHash(prevHash, { ...entry, at }, { version, key }),
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
  /** Rows verified per MAC version (1 legacy SHA-256, 2 HMAC-SHA-256, 3 HMAC-SM3). */
  byVersion?: Record<number, number>;
  /** Where the chain starts when older rows were purged (the newest checkpoint). */
  checkpoint?: { throughId: number; at: string; purgedBy: string };
  /** The first row whose MAC or link does not match, or the anchored row that is gone or different. */
  brokenAt?: number;
  reason?: string;
}

type CheckpointRow = typeof auditCheckpoints.$inferSelect;

/** What a checkpoint's MAC covers (a label first: a checkpoint's MAC is never a row's). */
function checkpointBody(c: Omit<CheckpointRow, 'id' | 'mac' | 'macVersion'>): string {
  return canonical({
    kind: 'audit-checkpoint',
    at: c.at.toISOString(),
    throughId: c.throughId,
    throughHash: c.throughHash,
    throughAt: c.throughAt.toISOString(),
    throughMacVersion: c.throughMacVersion,
    purgedRows: c.purgedRows,
    cutoff: c.cutoff.toISOString(),
    retentionDays: c.retentionDays,
    purgedBy: c.purgedBy,
  });
}

/** The newest purge checkpoint, or undefined when nothing was ever purged. */
export async function latestAuditCheckpoint(db: Db): Promise<CheckpointRow | undefined> {
  const [row] = await db.select().from(auditCheckpoints).orderBy(desc(auditCheckpoints.id)).limit(1);
  return row;
}

export interface PurgeResult {
  /** Rows deleted (0: nothing was older than the cut-off). */
  purged: number;
  cutoff: Date;
  checkpoint?: CheckpointRow;
}

/**
 * Deletes the audit rows older than `retentionDays` (a prefix of the chain: everything before the first row
 * still within the period) and records a checkpoint of the last one, in one transaction under the writers'
 * lock. Then writes an `audit.purge` row. `dryRun` counts without deleting.
 */
export async function purgeAuditLog(
  db: Db,
  opts: { retentionDays: number; by: string; now?: Date; dryRun?: boolean; sourceIp?: string | null },
): Promise<PurgeResult> {
  if (!Number.isInteger(opts.retentionDays) || opts.retentionDays < 183)
    throw new Error('audit rows are kept for at least 183 days (six months)');
  const { key, version } = keyOf(db);
  const now = new Date(Math.floor((opts.now ?? new Date()).getTime()));
  const cutoff = new Date(now.getTime() - opts.retentionDays * 86_400_000);
  const result = await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`);
    // The first row to keep; every row before it goes (rows are appended in id order under the lock).
    const [kept] = await tx
      .select({ id: auditLog.id })
      .from(auditLog)
      .where(gte(auditLog.at, cutoff))
      .orderBy(asc(auditLog.id))
      .limit(1);
    const [through] = await tx
      .select()
      .from(auditLog)
      .where(kept ? sql`${auditLog.id} < ${kept.id}` : undefined)
      .orderBy(desc(auditLog.id))
      .limit(1);
    if (!through) return { purged: 0, cutoff };
    const [counted] = await tx.select({ n: count() }).from(auditLog).where(lte(auditLog.id, through.id));
    const purged = Number(counted?.n ?? 0);
    if (opts.dryRun) return { purged, cutoff };
    await tx.delete(auditLog).where(lte(auditLog.id, through.id));
    const fields = {
      at: now,
      throughId: through.id,
      throughHash: through.hash,
      throughAt: through.at,
      throughMacVersion: through.macVersion,
      purgedRows: purged,
      cutoff,
      retentionDays: opts.retentionDays,
      purgedBy: opts.by,
    };
    const [checkpoint] = await tx
      .insert(auditCheckpoints)
      .values({ ...fields, macVersion: version, mac: keyedMac(version, key, checkpointBody(fields)) })
      .returning();
    return { purged, cutoff, checkpoint };
  });
  if (result.checkpoint)
    await recordAudit(db, {
      actorId: opts.by === 'scheduler' ? null : opts.by,
      action: 'audit.purge',
      outcome: 'allowed',
      sourceIp: opts.sourceIp ?? null,
      detail: {
        by: opts.by,
        purgedRows: result.purged,
        throughId: result.checkpoint.throughId,
        cutoff: cutoff.toISOString(),
        retentionDays: opts.retentionDays,
        checkpointId: result.checkpoint.id,
      },
    });
  return result;
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
  const byVersion: Record<number, number> = {};
  const checked = new Set<number>();
  const broken = (brokenAt: number, reason: string): ChainReport => ({
    rows,
    ok: false,
    legacyRows,
    anchors: anchors.size,
    byVersion,
    brokenAt,
    reason,
  });
  // Older rows purged: the chain starts from the newest checkpoint, whose own MAC must hold.
  const checkpoint = await latestAuditCheckpoint(db);
  if (checkpoint) {
    if (
      !KEYED_VERSIONS.includes(checkpoint.macVersion) ||
      checkpoint.mac !== keyedMac(checkpoint.macVersion, opts.key, checkpointBody(checkpoint))
    )
      return broken(
        checkpoint.throughId,
        `the purge checkpoint ${checkpoint.id} does not match its MAC (it was forged or changed)`,
      );
    const [left] = await db
      .select({ id: auditLog.id })
      .from(auditLog)
      .where(lte(auditLog.id, checkpoint.throughId))
      .orderBy(asc(auditLog.id))
      .limit(1);
    if (left)
      return broken(
        left.id,
        `a row at or before the purge checkpoint (id ${checkpoint.throughId}) is in the log (it was inserted)`,
      );
    prev = checkpoint.throughHash;
    afterId = checkpoint.throughId;
    keyedSeen = checkpoint.throughMacVersion !== LEGACY_MAC;
    // Anchored rows that were purged can no longer be checked, except the checkpoint's own row.
    for (const [id, hash] of anchors) {
      if (id > checkpoint.throughId) continue;
      if (id === checkpoint.throughId && hash !== checkpoint.throughHash)
        return broken(
          id,
          'the purge checkpoint differs from the anchor of its row (the chain was rewritten)',
        );
      checked.add(id);
    }
  }
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
      if (r.macVersion !== LEGACY_MAC && !KEYED_VERSIONS.includes(r.macVersion))
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
      if (r.macVersion !== LEGACY_MAC) keyedSeen = true;
      else legacyRows++;
      byVersion[r.macVersion] = (byVersion[r.macVersion] ?? 0) + 1;
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
  return {
    rows,
    ok: true,
    legacyRows,
    anchors: anchors.size,
    byVersion,
    ...(checkpoint
      ? {
          checkpoint: {
            throughId: checkpoint.throughId,
            at: checkpoint.at.toISOString(),
            purgedBy: checkpoint.purgedBy,
          },
        }
      : {}),
  };
}
