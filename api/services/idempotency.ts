/**
 * Idempotency-Key bookkeeping: the first use of a key binds it to its route and body, per unit — the
 * scope the case ID (unit + key) and the Update IDs have. A retry (same key, same body) goes through
 * again and Temporal applies it once; the same key with a different route or body, by the same person or
 * a colleague, is refused, since it would silently answer with the first request's case.
 */
import { createHash, randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import type { Db } from '../../db/client.ts';
import { idempotencyKeys } from '../../db/schema.ts';
import { Problem } from '../problem.ts';

export async function claimIdempotencyKey(
  db: Db,
  req: FastifyRequest,
  who: { id: string; unitCode: string },
): Promise<{ key: string; retry: boolean }> {
  const header = req.headers['idempotency-key'];
  if (typeof header !== 'string' || header === '') return { key: randomUUID(), retry: false };
  const route = `${req.method} ${req.url.split('?')[0]}`;
  const bodyHash = createHash('sha256')
    .update(JSON.stringify(req.body ?? null))
    .digest('hex');
  const inserted = await db
    .insert(idempotencyKeys)
    .values({ unitCode: who.unitCode, staffId: who.id, key: header, route, bodyHash })
    .onConflictDoNothing()
    .returning({ key: idempotencyKeys.key });
  if (inserted.length) return { key: header, retry: false };
  const [existing] = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.unitCode, who.unitCode), eq(idempotencyKeys.key, header)));
  if (existing && (existing.route !== route || existing.bodyHash !== bodyHash)) {
    throw new Problem(
      422,
      '幂等键冲突',
      existing.staffId === who.id
        ? '该 Idempotency-Key 已用于另一个请求，请为新请求生成新的幂等键'
        : '该 Idempotency-Key 已被本单位其他人员用于另一个请求，请为新请求生成新的幂等键',
      [{ pointer: '/headers/idempotency-key', detail: '已用于不同的请求内容' }],
      'idempotency_key_reused',
    );
  }
  return { key: header, retry: true };
}
