/**
 * Seals the case content of rows written before encryption (plain JSON in `cases.content`). Reads work
 * either way (ContentCipher.open); this only removes the plain copies. Run at start-up, in batches; a
 * row sealed meanwhile by the projection is skipped by the same condition.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { cases } from '../../db/schema.ts';
import { type ContentCipher, SEALED_MARKER } from '../../domain/content-cipher.ts';

const notSealed = sql`coalesce(${cases.content} ->> 'sealed', '') <> ${SEALED_MARKER}`;

export async function resealLegacyContent(db: Db, cipher: ContentCipher, batch = 200): Promise<number> {
  let sealed = 0;
  for (;;) {
    const rows = await db
      .select({ id: cases.id, content: cases.content })
      .from(cases)
      .where(notSealed)
      .limit(batch);
    for (const r of rows) {
      await db
        .update(cases)
        .set({
          content: cipher.seal(r.id, cipher.open(r.id, r.content)) as unknown as Record<string, unknown>,
        })
        .where(and(eq(cases.id, r.id), notSealed));
      sealed++;
    }
    if (rows.length < batch) return sealed;
  }
}
