/**
 * Remote payload codec for operators (Temporal "codec server" protocol): the Temporal Web UI and CLI send
 * the encrypted payloads of a workflow history here and get them back readable. Only supervisors and
 * administrators may use it, and every call is audited.
 *
 * Two ways in:
 * - `POST /api/v1/codec/decode|encode` with `Authorization: Bearer <JWT>` — for the Temporal CLI
 *   (`--codec-endpoint … --codec-auth 'Bearer …'`) and scripts;
 * - `POST /api/v1/codec/t/<ticket>/decode|encode` — for the Web UI, which cannot send our JWT: a ticket
 *   from `POST /api/v1/codec/ticket` is a short-lived (8 h), codec-only credential bound to the person,
 *   revoked by logout; it sits in the URL, so these routes do not write request logs, and they answer
 *   CORS from any origin (the ticket, not a cookie, is the credential).
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { FastifyRequest } from 'fastify';
import { type Static, Type } from 'typebox';
import type { Db } from '../../db/client.ts';
import { loadStaffContext, requireRole, type StaffContext } from '../plugins/auth.ts';
import { forbidden, unauthorized, unavailable, unprocessable } from '../problem.ts';
import { errorResponses } from '../schemas/common.ts';
import { recordAudit } from '../services/audit.ts';

export const CODEC_TICKET_TTL_SECONDS = 8 * 60 * 60;
export const CODEC_BODY_LIMIT_BYTES = 8 * 1024 * 1024;
const MAX_PAYLOADS = 1000;

const Base64 = Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$' });
const JsonPayload = Type.Object({
  metadata: Type.Optional(Type.Record(Type.String({ maxLength: 200 }), Base64)),
  data: Type.Optional(Base64),
});
/** Proto3 JSON leaves an empty list out: the Temporal CLI sends `{}` for no payloads. */
const Payloads = Type.Object(
  { payloads: Type.Optional(Type.Array(JsonPayload, { maxItems: MAX_PAYLOADS })) },
  { description: 'Temporal 远程编解码格式：metadata 的值与 data 均为 base64' },
);
const PayloadsOut = Type.Object({ payloads: Type.Array(JsonPayload) });
type JsonPayloads = Static<typeof Payloads>;

const fromJson = (p: Static<typeof JsonPayload>): Payload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
  ),
  data: Buffer.from(p.data ?? '', 'base64'),
});

const toJson = (p: Payload): Static<typeof JsonPayload> => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [
      k,
      Buffer.from(v ?? new Uint8Array()).toString('base64'),
    ]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

const OPERATOR_ROLES = ['supervisor', 'admin'] as const;

export const codecRoutes: FastifyPluginAsyncTypebox<{
  db: Db;
  jwtSecret: string;
  codec?: PayloadCodec;
}> = async (app, { db, jwtSecret, codec }) => {
  const ticketKey = Buffer.from(hkdfSync('sha256', jwtSecret, Buffer.alloc(0), 'xiecha codec ticket', 32));
  const mac = (body: string) => createHmac('sha256', ticketKey).update(body).digest('base64url');

  function issueTicket(staffId: string, sessionVersion: number) {
    const exp = Math.floor(Date.now() / 1000) + CODEC_TICKET_TTL_SECONDS;
    const body = Buffer.from(JSON.stringify({ s: staffId, v: sessionVersion, e: exp })).toString('base64url');
    return { ticket: `${body}.${mac(body)}`, expiresAt: new Date(exp * 1000).toISOString() };
  }

  /** The operator a ticket stands for, if it is genuine, unexpired, not revoked and still an operator. */
  async function ticketHolder(ticket: string): Promise<StaffContext> {
    const [body, sig] = ticket.split('.');
    const expected = body ? Buffer.from(mac(body)) : Buffer.alloc(0);
    if (!body || !sig || sig.length !== expected.length || !timingSafeEqual(Buffer.from(sig), expected))
      throw unauthorized('编解码凭证无效');
    let claims: { s?: unknown; v?: unknown; e?: unknown };
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString());
    } catch {
      throw unauthorized('编解码凭证无效');
    }
    if (typeof claims.e !== 'number' || claims.e * 1000 < Date.now())
      throw unauthorized('编解码凭证已过期，请重新申请');
    const ctx = typeof claims.s === 'string' ? await loadStaffContext(db, claims.s) : undefined;
    if (!ctx?.active || ctx.sessionVersion !== claims.v) throw unauthorized('编解码凭证已失效，请重新申请');
    const { sessionVersion: _sv, active: _a, ...who } = ctx;
    if (!(OPERATOR_ROLES as readonly string[]).includes(who.role))
      throw forbidden('只有联席会议办公室的督办人员或管理员可以解读工作流历史');
    return who;
  }

  async function run(
    req: FastifyRequest,
    who: StaffContext,
    op: 'encode' | 'decode',
    body: JsonPayloads,
  ): Promise<Static<typeof PayloadsOut>> {
    if (!codec) throw unavailable('本服务未配置负载编解码');
    const audit = (outcome: 'allowed' | 'denied', detail: Record<string, unknown>) =>
      recordAudit(db, {
        actorId: who.id,
        actorUnit: who.unitCode,
        action: `codec.${op}`,
        sourceIp: req.ip,
        outcome,
        detail: {
          payloads: body.payloads?.length ?? 0,
          namespace: req.headers['x-namespace'] ?? null,
          ...detail,
        },
      });
    let out: Payload[];
    try {
      const payloads = (body.payloads ?? []).map(fromJson);
      out = op === 'decode' ? await codec.decode(payloads) : await codec.encode(payloads);
    } catch (err) {
      await audit('denied', { reason: 'undecodable' });
      throw unprocessable(
        op === 'decode' ? '无法解密：负载已损坏，或不是用本系统的密钥加密的' : '无法加密这些负载',
        [{ pointer: '/body/payloads', detail: (err as Error).message.slice(0, 200) }],
      );
    }
    await audit('allowed', {});
    return { payloads: out.map(toJson) };
  }

  const common = {
    tags: ['运维'],
    body: Payloads,
    response: { 200: PayloadsOut, ...errorResponses(403, 413, 415, 422), 503: Type.Ref('Problem') },
  };

  for (const op of ['decode', 'encode'] as const) {
    app.post(
      `/api/v1/codec/${op}`,
      {
        bodyLimit: CODEC_BODY_LIMIT_BYTES,
        schema: {
          ...common,
          summary:
            op === 'decode'
              ? '解密 Temporal 负载（远程编解码，供 Temporal CLI 使用；督办人员、管理员）'
              : '加密 Temporal 负载（远程编解码；督办人员、管理员）',
          security: [{ bearer: [] }],
        },
      },
      async (req) => run(req, requireRole(req, ...OPERATOR_ROLES), op, req.body),
    );

    app.post(
      `/api/v1/codec/t/:ticket/${op}`,
      {
        bodyLimit: CODEC_BODY_LIMIT_BYTES,
        // The ticket is in the URL: no request log lines for these routes.
        logLevel: 'warn',
        config: { public: true, cors: { origin: '*', credentials: false } },
        schema: {
          ...common,
          summary: `${op === 'decode' ? '解密' : '加密'} Temporal 负载（供 Temporal Web UI 使用，凭证在地址中）`,
          params: Type.Object({ ticket: Type.String({ minLength: 1, maxLength: 512 }) }),
        },
      },
      async (req) => run(req, await ticketHolder(req.params.ticket), op, req.body),
    );
  }

  // The Web UI's preflight (content-type and X-Namespace are not "simple" headers).
  app.options(
    '/api/v1/codec/t/:ticket/:op',
    {
      logLevel: 'warn',
      config: {
        public: true,
        cors: {
          origin: '*',
          credentials: false,
          methods: ['POST'],
          allowedHeaders: ['content-type', 'x-namespace', 'authorization'],
          maxAge: 600,
        },
      },
      schema: { hide: true },
    },
    async (_req, reply) => reply.code(204).send(),
  );

  app.post(
    '/api/v1/codec/ticket',
    {
      schema: {
        tags: ['运维'],
        summary: '申请 Temporal Web UI 用的编解码地址（8 小时有效，退出登录即失效；督办人员、管理员）',
        security: [{ bearer: [] }],
        response: {
          201: Type.Object({
            endpoint: Type.String({ description: '填入 Temporal Web UI 的 Codec Server 地址' }),
            expiresAt: Type.String({ format: 'date-time' }),
          }),
          ...errorResponses(403),
        },
      },
    },
    async (req, reply) => {
      const who = requireRole(req, ...OPERATOR_ROLES);
      const ctx = await loadStaffContext(db, who.id);
      if (!ctx) throw unauthorized();
      const { ticket, expiresAt } = issueTicket(who.id, ctx.sessionVersion);
      await recordAudit(db, {
        actorId: who.id,
        actorUnit: who.unitCode,
        action: 'codec.ticket',
        sourceIp: req.ip,
        outcome: 'allowed',
        detail: { expiresAt },
      });
      const base = `${req.protocol}://${req.host}`;
      return reply.code(201).send({ endpoint: `${base}/api/v1/codec/t/${ticket}`, expiresAt });
    },
  );
};
