/**
 * The audit log (Art. 10, 12): every read of case content and every action, allowed or refused, with
 * person, unit, time, purpose and source address. Append-only and hash-chained: each row's hash covers
 * its content and the previous row's hash, so changing or deleting a row breaks the chain.
 */
import { createHash } from 'node:crypto';
import { asc, desc, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { auditLog } from '../../db/schema.ts';

export interface AuditEntry {
  actorId?: string | null;
  actorUnit?: string | null;
  action: string;
  caseId?: string | null;
  purpose?: string | null;
  sourceIp?: string | null;
  outcome: 'allowed' | 'denied';
  detail?: Record<string, unknown>;
}

export const GENESIS_HASH = '0'.repeat(64);
/** Serialises writers across processes so the chain has one order. */
const AUDIT_LOCK_KEY = 0x61756469;

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => a.localeCompare(b));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

export function auditHash(prevHash: string, row: AuditEntry & { at: Date }): string {
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
  return createHash('sha256').update(prevHash).update('\n').update(body).digest('hex');
}

export async function recordAudit(db: Db, entry: AuditEntry): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`);
    const [last] = await tx
      .select({ hash: auditLog.hash })
      .from(auditLog)
      .orderBy(desc(auditLog.id))
      .limit(1);
    const prevHash = last?.hash ?? GENESIS_HASH;
    // Millisecond precision: what PostgreSQL keeps is what the hash covers.
    const at = new Date(Math.floor(Date.now()));
    await tx.insert(auditLog).values({
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
      hash: auditHash(prevHash, { ...entry, at }),
    });
  });
}

export interface ChainReport {
  rows: number;
  ok: boolean;
  /** The first row whose hash or link does not match. */
  brokenAt?: number;
  reason?: string;
}

export async function verifyAuditChain(db: Db, batch = 5000): Promise<ChainReport> {
  let prev = GENESIS_HASH;
  let rows = 0;
  let afterId = 0;
  for (;;) {
    const page = await db
      .select()
      .from(auditLog)
      .where(sql`${auditLog.id} > ${afterId}`)
      .orderBy(asc(auditLog.id))
      .limit(batch);
    if (page.length === 0) return { rows, ok: true };
    for (const r of page) {
      if (r.prevHash !== prev)
        return {
          rows,
          ok: false,
          brokenAt: r.id,
          reason: 'prev_hash does not link to the row before (a row was removed or reordered)',
        };
      const expected = auditHash(prev, {
        at: r.at,
        actorId: r.actorId,
        actorUnit: r.actorUnit,
        action: r.action,
        caseId: r.caseId,
        purpose: r.purpose,
        sourceIp: r.sourceIp,
        outcome: r.outcome as 'allowed' | 'denied',
        detail: r.detail,
      });
      if (r.hash !== expected)
        return {
          rows,
          ok: false,
          brokenAt: r.id,
          reason: 'content does not match its hash (the row was changed)',
        };
      prev = r.hash;
      rows++;
      afterId = r.id;
    }
  }
}
