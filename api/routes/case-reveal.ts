/**
 * Unmasking the subject's ID number. Inside a unit, only the person handling the case sees it in full
 * (case-reads.ts `handlesCase`); a colleague, or the office on an escalated case, asks for it here with
 * a purpose, and every unmasking is audited (`case.reveal`, with that purpose).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { notFound } from '../problem.ts';
import { errorResponses } from '../schemas/common.ts';
import { recordAudit } from '../services/audit.ts';
import { caseContent } from '../services/case-reads.ts';
import { type CaseRouteDeps, visibleCase } from './verifications.ts';

export const caseRevealRoutes: FastifyPluginAsyncTypebox<CaseRouteDeps> = async (
  app,
  { db, contentCipher },
) => {
  app.post(
    '/api/v1/verifications/:id/reveal',
    {
      schema: {
        tags: ['协查'],
        summary: '查看完整证件号码（须说明目的，留痕）',
        security: [{ bearer: [] }],
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) }),
        body: Type.Object(
          {
            field: Type.Literal('idNumber', { description: '要显示完整内容的字段' }),
            purpose: Type.String({ minLength: 2, maxLength: 200, description: '查看目的' }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ idNumber: Type.String({ description: '完整的证件号码' }) }),
          ...errorResponses(404, 415),
        },
      },
    },
    async (req) => {
      const { row, who, access } = await visibleCase(db, req, req.params.id, 'case.reveal');
      const subject = access === 'full' ? caseContent(contentCipher, row).subject : undefined;
      if (!subject) {
        // A unit that returned the case keeps its own part only: no subject to show.
        await recordAudit(db, {
          actorId: who.id,
          actorUnit: who.unitCode,
          action: 'case.reveal',
          caseId: row.id,
          purpose: req.body.purpose,
          sourceIp: req.ip,
          outcome: 'denied',
          detail: { field: req.body.field, reason: 'no_subject_access' },
        });
        throw notFound('未找到该协查，或您无权查看');
      }
      await recordAudit(db, {
        actorId: who.id,
        actorUnit: who.unitCode,
        action: 'case.reveal',
        caseId: row.id,
        purpose: req.body.purpose,
        sourceIp: req.ip,
        outcome: 'allowed',
        detail: { field: req.body.field },
      });
      return { idNumber: subject.idNumber };
    },
  );
};
