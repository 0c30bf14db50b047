/**
 * Attachments of response letters: PDF, OFD, JPEG or PNG up to 10 MB, sent as the raw request body with
 * `?filename=`. The type is decided from the content, never from the name or the declared type. Files
 * are stored in PostgreSQL with their SHA-256. Before a response cites it, only the uploader's unit can
 * download it; afterwards, the units that can read the case. Every download is audited.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { eq, getTableColumns, sql } from 'drizzle-orm';
import type { FastifyError, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Db } from '../../db/client.ts';
import { attachments } from '../../db/schema.ts';
import { type StaffContext, staffOf } from '../plugins/auth.ts';
import { forbidden, notFound, Problem } from '../problem.ts';
import { errorResponses } from '../schemas/common.ts';
import { ATTACHMENT_MEDIA_TYPES, contentDisposition, sniffMediaType } from '../services/attachment-files.ts';
import { recordAudit } from '../services/audit.ts';
import { caseAccess, findCase } from '../services/case-reads.ts';

export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;

const queryAjv = new Ajv({ coerceTypes: 'array', useDefaults: true, allErrors: true });
(addFormats as unknown as (a: Ajv) => void)(queryAjv);

const AttachmentView = Type.Object({
  id: Type.String(),
  fileName: Type.String(),
  mediaType: Type.String(),
  sizeBytes: Type.Integer(),
  sha256: Type.String({ description: '文件内容的 SHA-256（十六进制）' }),
  caseId: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});

const tooLarge = () =>
  new Problem(413, '附件过大', `附件不能超过 ${MAX_ATTACHMENT_BYTES / 1024 / 1024} MB，请压缩或拆分后再上传`);
const unsupported = () =>
  new Problem(
    415,
    '不支持的文件类型',
    '附件只能是 PDF、OFD、JPEG 或 PNG 文件（按文件内容识别，与文件名无关）',
  );

/** Who may download: the case's readers once attached; the uploader's unit before. Returns the case's purpose. */
async function mayDownload(
  db: Db,
  who: StaffContext,
  att: { caseId: string | null; uploaderUnit: string },
): Promise<{ ok: boolean; purpose: string | null }> {
  if (!att.caseId) return { ok: who.role !== 'admin' && who.unitCode === att.uploaderUnit, purpose: null };
  const row = await findCase(db, att.caseId);
  const access = row ? await caseAccess(db, who, row) : 'none';
  const ok = access === 'full' || (access === 'returned_part' && att.uploaderUnit === who.unitCode);
  const ownUnit = !!row && (who.unitCode === row.requestingUnit || who.unitCode === row.issuingUnit);
  return { ok, purpose: ownUnit ? (row?.purpose ?? null) : null };
}

export const attachmentRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  // This plugin's own context: every body arrives as raw bytes (JSON included), to be sniffed.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_ATTACHMENT_BYTES }, (_req, body, done) =>
    done(null, body),
  );
  // The app-wide handler would quote the 1 MB JSON limit: say which limit applies here.
  app.setErrorHandler((err: FastifyError) => {
    throw err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? tooLarge() : err;
  });

  const audit = (req: FastifyRequest, who: StaffContext, action: string, extra: Record<string, unknown>) =>
    recordAudit(db, {
      actorId: who.id,
      actorUnit: who.unitCode,
      action,
      sourceIp: req.ip,
      outcome: 'allowed',
      ...extra,
    });

  app.post(
    '/api/v1/attachments',
    {
      bodyLimit: MAX_ATTACHMENT_BYTES,
      // The body is raw bytes (checked by content below); the query is validated as everywhere else.
      validatorCompiler: ({ schema, httpPart }) =>
        httpPart === 'body' ? () => true : queryAjv.compile(schema),
      schema: {
        tags: ['附件'],
        summary: '上传附件（PDF、OFD、JPEG、PNG，≤ 10 MB）：请求体为文件本身，文件名放在 filename 参数',
        security: [{ bearer: [] }],
        consumes: [
          'application/pdf',
          'application/ofd',
          'image/jpeg',
          'image/png',
          'application/octet-stream',
        ],
        querystring: Type.Object(
          {
            filename: Type.String({
              minLength: 1,
              maxLength: 200,
              pattern: '^[^\\\\/\\x00-\\x1f\\x7f]+$',
              description: '原文件名（不含路径）',
            }),
          },
          { additionalProperties: false },
        ),
        body: Type.Unsafe<Buffer>({ type: 'string', format: 'binary', description: '文件内容（原始字节）' }),
        response: { 201: AttachmentView, ...errorResponses(403, 413, 415) },
      },
    },
    async (req, reply) => {
      const who = staffOf(req);
      if (who.role !== 'agent' && who.role !== 'liaison')
        throw forbidden('只有部门的联络员或经办人可以上传附件');
      const body = req.body;
      if (!Buffer.isBuffer(body) || body.length === 0) throw unsupported();
      const mediaType = sniffMediaType(body);
      if (!mediaType) throw unsupported();
      const sha256 = createHash('sha256').update(body).digest('hex');
      const [row] = await db
        .insert(attachments)
        .values({
          id: `att-${randomUUID()}`,
          fileName: req.query.filename,
          mediaType,
          sizeBytes: body.length,
          sha256,
          // As base64 text decoded by the server: ~10x faster than a bytea parameter on PGlite.
          content: sql`decode(${body.toString('base64')}, 'base64')`,
          uploadedBy: who.id,
          uploaderUnit: who.unitCode,
        })
        .returning({
          id: attachments.id,
          fileName: attachments.fileName,
          mediaType: attachments.mediaType,
          sizeBytes: attachments.sizeBytes,
          sha256: attachments.sha256,
          caseId: attachments.caseId,
          createdAt: attachments.createdAt,
        });
      if (!row) throw new Error('attachment insert returned nothing');
      // The file name may name the subject: it stays out of the audit log.
      await audit(req, who, 'attachment.upload', {
        detail: { attachmentId: row.id, mediaType, sizeBytes: body.length, sha256 },
      });
      return reply.code(201).send({ ...row, createdAt: row.createdAt.toISOString() });
    },
  );

  app.get(
    '/api/v1/attachments/:id',
    {
      schema: {
        tags: ['附件'],
        summary: '下载附件（能查看所属协查的单位；尚未引用时仅上传单位）；每次下载留痕',
        security: [{ bearer: [] }],
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) }),
        produces: [...ATTACHMENT_MEDIA_TYPES],
        response: {
          200: {
            description: '文件内容；Repr-Digest 头为其 SHA-256',
            content: Object.fromEntries(
              ATTACHMENT_MEDIA_TYPES.map((t) => [
                t,
                { schema: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }) },
              ]),
            ),
          },
          ...errorResponses(404),
        },
      },
    },
    async (req, reply) => {
      const who = staffOf(req);
      const { content: _bytes, ...meta } = getTableColumns(attachments);
      const [att] = await db.select(meta).from(attachments).where(eq(attachments.id, req.params.id));
      const { ok, purpose } = att ? await mayDownload(db, who, att) : { ok: false, purpose: null };
      if (!att || !ok) {
        await audit(req, who, 'attachment.download', {
          caseId: att?.caseId ?? null,
          outcome: 'denied',
          detail: { attachmentId: req.params.id, reason: att ? 'not_your_attachment' : 'no_such_attachment' },
        });
        throw notFound('未找到该附件，或您无权下载');
      }
      const [file] = await db
        .select({ base64: sql<string>`encode(${attachments.content}, 'base64')` })
        .from(attachments)
        .where(eq(attachments.id, att.id));
      await audit(req, who, 'attachment.download', {
        caseId: att.caseId,
        purpose,
        detail: { attachmentId: att.id, sha256: att.sha256 },
      });
      return reply
        .header('content-type', att.mediaType)
        .header('content-disposition', contentDisposition(att.fileName))
        .header('repr-digest', `sha-256=:${Buffer.from(att.sha256, 'hex').toString('base64')}:`)
        .header('cache-control', 'private, no-store')
        .header('content-security-policy', "default-src 'none'; sandbox")
        .send(Buffer.from(file?.base64 ?? '', 'base64'));
    },
  );
};
