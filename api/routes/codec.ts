/**
 * Remote payload codec for operators (Temporal "codec server" protocol): the Temporal Web UI and CLI send
 * the encrypted payloads of a workflow history here and get them back readable. Only the joint-meeting
 * office's supervisors may use it — the same people who may read (escalated) case content; administrators
 * read no case content, here or anywhere. Every call, allowed or refused, is audited.
 *
 * One endpoint, `POST /api/v1/codec/decode|encode` (codec endpoint `…/api/v1/codec`), two credentials,
 * both in headers — never in the path or query, which end up in proxy and access logs:
 * - `Authorization: Bearer <login token>` (Temporal CLI `--codec-auth`, scripts);
 * - a codec ticket from `POST /api/v1/codec/ticket`, a short-lived (8 h), codec-only credential bound to
 *   the person and revoked by logout, as `X-Codec-Ticket: <ticket>` or `Authorization: Bearer <ticket>`
 *   (for a proxy in front of the Temporal Web UI, or the CLI for a long session).
 * The routes answer CORS from any origin without cookies: the credential is a header a foreign page
 * cannot know.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { FastifyRequest } from 'fastify';
import { type Static, Type } from 'typebox';
import type { Db } from '../../db/client.ts';
import { authenticate, loadStaffContext, type StaffContext, staffOf } from '../plugins/auth.ts';
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

/** Who may decode: as for case content (api/services/case-reads.ts), supervisors but not admins. */
const CODEC_ROLES: readonly string[] = ['supervisor'];
const ROLE_REFUSAL = '只有联席会议办公室的督办人员可以解读工作流历史（管理员不查看协查内容）';
export const CODEC_TICKET_HEADER = 'x-codec-ticket';

/** A codec ticket is `body.mac` (two parts); a login token is a JWT (three). */
const looksLikeTicket = (s: string) => /^[\w-]+\.[\w-]+$/.test(s);

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
    return who;
  }

  /** The person behind the request's codec credential (ticket or login token), if a supervisor. */
  async function codecCaller(req: FastifyRequest, action: string): Promise<StaffContext> {
    const header = req.headers[CODEC_TICKET_HEADER];
    const bearer = req.headers.authorization?.startsWith('Bearer ')
      ? req.headers.authorization.slice(7)
      : undefined;
    const ticket =
      typeof header === 'string' ? header : bearer && looksLikeTicket(bearer) ? bearer : undefined;
    const who = ticket !== undefined ? await ticketHolder(ticket) : await authenticate(db, req);
    await refuseUnlessSupervisor(req, who, action);
    return who;
  }

  async function refuseUnlessSupervisor(req: FastifyRequest, who: StaffContext, action: string) {
    if (CODEC_ROLES.includes(who.role)) return;
    await recordAudit(db, {
      actorId: who.id,
      actorUnit: who.unitCode,
      action,
      sourceIp: req.ip,
      outcome: 'denied',
      detail: { reason: 'role', role: who.role },
    });
    throw forbidden(ROLE_REFUSAL);
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

  const codecCors = {
    origin: '*',
    credentials: false,
    methods: ['POST'],
    allowedHeaders: ['content-type', 'x-namespace', 'authorization', CODEC_TICKET_HEADER],
    maxAge: 600,
  };

  for (const op of ['decode', 'encode'] as const) {
    app.post(
      `/api/v1/codec/${op}`,
      {
        bodyLimit: CODEC_BODY_LIMIT_BYTES,
        // Public to the auth hook only: the handler takes a ticket or a login token itself.
        config: { public: true, cors: codecCors },
        schema: {
          ...common,
          summary:
            op === 'decode'
              ? '解密 Temporal 负载（远程编解码，供 Temporal CLI / Web UI 使用；督办人员）'
              : '加密 Temporal 负载（远程编解码；督办人员）',
          description: `凭证放在请求头：Authorization: Bearer <登录令牌或编解码凭证>，或 X-Codec-Ticket: <编解码凭证>`,
          security: [{ bearer: [] }],
          headers: Type.Object({
            [CODEC_TICKET_HEADER]: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
          }),
        },
      },
      async (req) => run(req, await codecCaller(req, `codec.${op}`), op, req.body),
    );
  }

  // The Web UI's preflight (content-type, X-Namespace and the credential headers are not "simple").
  app.options(
    '/api/v1/codec/:op',
    { logLevel: 'warn', config: { public: true, cors: codecCors }, schema: { hide: true } },
    async (_req, reply) => reply.code(204).send(),
  );

  app.post(
    '/api/v1/codec/ticket',
    {
      schema: {
        tags: ['运维'],
        summary: '申请编解码凭证（8 小时有效，退出登录即失效；督办人员）；凭证放在请求头，不放在地址中',
        security: [{ bearer: [] }],
        response: {
          201: Type.Object({
            endpoint: Type.String({ description: 'Codec Server 地址（不含凭证）' }),
            ticket: Type.String({
              description: '编解码凭证：以 X-Codec-Ticket 或 Authorization: Bearer 请求头发送',
            }),
            header: Type.String({ description: '发送凭证的请求头名' }),
            expiresAt: Type.String({ format: 'date-time' }),
          }),
          ...errorResponses(403),
        },
      },
    },
    async (req, reply) => {
      const who = staffOf(req);
      await refuseUnlessSupervisor(req, who, 'codec.ticket');
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
      // A credential in the body: no cache may keep it.
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({ endpoint: `${base}/api/v1/codec`, ticket, header: 'X-Codec-Ticket', expiresAt });
    },
  );
};
