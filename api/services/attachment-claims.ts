/**
 * Binding cited attachments to a case. An answer may cite only files its case's readers can open: the
 * citing unit's own files that are not yet bound to a case, or already bound to this same case. A file
 * bound to another case would be listed in this answer but not downloadable by this case's requesting
 * unit (its download rights follow the one case it is bound to), so it is refused (422 with the field's
 * pointer) instead of shown. The binding is claimed atomically before the answer is sent to the
 * workflow, so two answers racing for one file cannot both cite it.
 */
import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { attachments } from '../../db/schema.ts';
import { unprocessable } from '../problem.ts';

export interface AttachmentClaim {
  /** Unbinds the files this claim bound (when the answer was refused); files bound before stay. */
  release(): Promise<void>;
}

export async function claimAttachments(
  db: Db,
  unitCode: string,
  caseId: string,
  ids: readonly string[],
  pointer: string,
): Promise<AttachmentClaim> {
  const wanted = [...new Set(ids)];
  if (!wanted.length) return { release: async () => {} };
  const own = and(inArray(attachments.id, wanted), eq(attachments.uploaderUnit, unitCode));
  const claimed = await db
    .update(attachments)
    .set({ caseId })
    .where(and(own, isNull(attachments.caseId)))
    .returning({ id: attachments.id });
  const already = await db
    .select({ id: attachments.id })
    .from(attachments)
    .where(and(own, eq(attachments.caseId, caseId)));
  const usable = new Set([...claimed, ...already].map((r) => r.id));
  const release = async () => {
    if (!claimed.length) return;
    await db
      .update(attachments)
      .set({ caseId: null })
      .where(
        and(
          inArray(
            attachments.id,
            claimed.map((r) => r.id),
          ),
          eq(attachments.caseId, caseId),
        ),
      );
  };
  const refused = ids.map((id, i) => ({ id, i })).filter(({ id }) => !usable.has(id));
  if (refused.length) {
    await release();
    throw unprocessable(
      '只能引用本单位上传、尚未用于其他协查的附件',
      refused.map(({ i }) => ({
        pointer: `${pointer}/${i}`,
        detail: '附件不存在、不是本单位上传的，或已用于其他协查',
      })),
    );
  }
  return { release };
}
