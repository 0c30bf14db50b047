/**
 * The catalog of certificate items (administrators, Art. 4). Items are versioned: a change inserts
 * version + 1, and running cases keep the version they started with (cases store `catalogVersion`).
 * Templates are JSON Schema objects, checked by compiling them; issuing units must exist and issue.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { and, desc, eq, max } from 'drizzle-orm';
import { type Static, Type } from 'typebox';
import type { Db } from '../../db/client.ts';
import { catalogItems } from '../../db/schema.ts';
import { requireRole } from '../plugins/auth.ts';
import { conflict, notFound, type ProblemField, unprocessable } from '../problem.ts';
import { Tier } from '../schemas/cases.ts';
import { errorResponses } from '../schemas/common.ts';
import { auditedWrite, templateSchemaErrors, unitsThatCannotIssue } from '../services/reference-data.ts';
import { CatalogItemView, catalogView, catalogViews, latestCatalogItems } from './catalog.ts';

const ItemCode = Type.String({ pattern: '^[A-Z0-9][A-Z0-9-]{1,31}$', description: '事项代码，如 HJ-001' });

const ItemFields = {
  name: Type.String({ minLength: 2, maxLength: 100 }),
  serviceItemName: Type.String({ minLength: 2, maxLength: 200, description: '服务的政务服务事项名称' }),
  serviceItemCode: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
  legalBasis: Type.String({ minLength: 2, maxLength: 500, description: '设定依据' }),
  issuingUnitCodes: Type.Array(Type.String({ minLength: 1, maxLength: 32 }), {
    minItems: 1,
    maxItems: 20,
    description: '出具单位代码，第一个为默认',
  }),
  defaultTier: Tier,
  exemptionMethod: Type.String({ minLength: 2, maxLength: 100, description: '免提交方式，如 部门核验' }),
  requestSchema: Type.Record(Type.String(), Type.Unknown(), { description: '协查函模板（JSON Schema）' }),
  responseSchema: Type.Record(Type.String(), Type.Unknown(), { description: '反馈函模板（JSON Schema）' }),
  subjectKinds: Type.Optional(
    Type.Array(Type.Union([Type.Literal('person'), Type.Literal('company')]), {
      minItems: 1,
      maxItems: 2,
      uniqueItems: true,
      description: '核验对象类型（person 个人、company 企业）；新增时缺省为两者，新版本缺省沿用上一版',
    }),
  ),
  connector: Type.Optional(
    Type.Union([Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,39}$' }), Type.Null()], {
      description:
        '自动核验的数据源连接器名称（配置文件 CONNECTORS_FILE 中的 name；地址与密钥只在配置中）；null 为人工办理；新版本省略时沿用上一版本',
    }),
  ),
};
const VersionBody = Type.Object(ItemFields, { additionalProperties: false });
const CreateBody = Type.Object({ code: ItemCode, ...ItemFields }, { additionalProperties: false });
const CodeParams = Type.Object({ code: Type.String({ minLength: 1, maxLength: 64 }) });

export async function checkItem(db: Db, b: Static<typeof VersionBody>) {
  const errors: ProblemField[] = [
    ...(await unitsThatCannotIssue(db, b.issuingUnitCodes, '/body/issuingUnitCodes')),
    ...templateSchemaErrors(b.requestSchema, '/body/requestSchema'),
    ...templateSchemaErrors(b.responseSchema, '/body/responseSchema'),
  ];
  if (errors.length)
    throw unprocessable(
      `证明事项不符合要求：${errors.map((e) => `${e.pointer} ${e.detail}`).join('；')}`,
      errors,
    );
}

export async function insertVersion(
  db: Db,
  code: string,
  version: number,
  b: Static<typeof VersionBody>,
  previous: { subjectKinds?: ('person' | 'company')[]; connector?: string | null } = {},
) {
  const subjectKinds = b.subjectKinds ?? previous.subjectKinds;
  const connector = b.connector === undefined ? (previous.connector ?? null) : b.connector;
  const [row] = await db
    .insert(catalogItems)
    .values({
      code,
      version,
      ...b,
      ...(subjectKinds ? { subjectKinds } : {}),
      serviceItemCode: b.serviceItemCode ?? null,
      connector,
      active: true,
    })
    .onConflictDoNothing()
    .returning();
  if (!row) throw conflict('该事项刚被他人修改，请刷新后重试', 'catalog_version_conflict');
  return catalogView(db, row);
}

export const adminCatalogRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  const ItemList = Type.Object({
    items: Type.Array(Type.Intersect([CatalogItemView, Type.Object({ versions: Type.Integer() })])),
  });

  app.get(
    '/api/v1/admin/catalog',
    {
      schema: {
        tags: ['管理：证明事项'],
        summary: '证明事项（每项的最新版本，含已停用；管理员）',
        security: [{ bearer: [] }],
        response: { 200: ItemList, ...errorResponses(403) },
      },
    },
    async (req) => {
      requireRole(req, 'admin');
      const latest = await latestCatalogItems(db, true);
      const counts = await db
        .select({ code: catalogItems.code, n: max(catalogItems.version) })
        .from(catalogItems)
        .groupBy(catalogItems.code);
      const views = await catalogViews(db, latest);
      return {
        items: views.map((v) => ({ ...v, versions: counts.find((c) => c.code === v.code)?.n ?? 1 })),
      };
    },
  );

  app.get(
    '/api/v1/admin/catalog/:code',
    {
      schema: {
        tags: ['管理：证明事项'],
        summary: '一个证明事项的全部版本（新的在前；管理员）',
        security: [{ bearer: [] }],
        params: CodeParams,
        response: {
          200: Type.Object({ versions: Type.Array(CatalogItemView) }),
          ...errorResponses(403, 404),
        },
      },
    },
    async (req) => {
      requireRole(req, 'admin');
      const rows = await db
        .select()
        .from(catalogItems)
        .where(eq(catalogItems.code, req.params.code))
        .orderBy(desc(catalogItems.version));
      if (!rows.length) throw notFound('证明事项不存在');
      return { versions: await catalogViews(db, rows) };
    },
  );

  app.post(
    '/api/v1/admin/catalog',
    {
      schema: {
        tags: ['管理：证明事项'],
        summary: '新增证明事项（第 1 版；管理员）',
        security: [{ bearer: [] }],
        body: CreateBody,
        response: { 201: CatalogItemView, ...errorResponses(403, 409, 413, 415, 422) },
      },
    },
    async (req, reply) =>
      auditedWrite(db, req, 'admin.catalog.create', { code: req.body.code }, async () => {
        requireRole(req, 'admin');
        const { code, ...fields } = req.body;
        const [existing] = await db
          .select({ code: catalogItems.code })
          .from(catalogItems)
          .where(eq(catalogItems.code, code))
          .limit(1);
        if (existing) throw conflict(`事项代码 ${code} 已存在；修改请提交新版本`, 'catalog_item_exists');
        await checkItem(db, fields);
        return reply.code(201).send(await insertVersion(db, code, 1, fields));
      }),
  );

  app.put(
    '/api/v1/admin/catalog/:code',
    {
      schema: {
        tags: ['管理：证明事项'],
        summary: '发布证明事项的新版本（版本号 + 1；进行中的协查仍用原版本；管理员）',
        security: [{ bearer: [] }],
        params: CodeParams,
        body: VersionBody,
        response: { 201: CatalogItemView, ...errorResponses(403, 404, 409, 413, 415, 422) },
      },
    },
    async (req, reply) =>
      auditedWrite(db, req, 'admin.catalog.version', { code: req.params.code }, async () => {
        requireRole(req, 'admin');
        const [latest] = await db
          .select({
            version: catalogItems.version,
            subjectKinds: catalogItems.subjectKinds,
            connector: catalogItems.connector,
          })
          .from(catalogItems)
          .where(eq(catalogItems.code, req.params.code))
          .orderBy(desc(catalogItems.version))
          .limit(1);
        if (!latest) throw notFound('证明事项不存在');
        await checkItem(db, req.body);
        return reply
          .code(201)
          .send(await insertVersion(db, req.params.code, latest.version + 1, req.body, latest));
      }),
  );

  for (const [action, active] of [
    ['deactivate', false],
    ['activate', true],
  ] as const) {
    app.post(
      `/api/v1/admin/catalog/:code/${action}`,
      {
        schema: {
          tags: ['管理：证明事项'],
          summary: active
            ? '重新启用证明事项（最新版本；管理员）'
            : '停用证明事项（不能再发起新协查，进行中的不受影响；管理员）',
          security: [{ bearer: [] }],
          params: CodeParams,
          response: { 200: CatalogItemView, ...errorResponses(403, 404) },
        },
      },
      async (req) =>
        auditedWrite(db, req, `admin.catalog.${action}`, { code: req.params.code }, async () => {
          requireRole(req, 'admin');
          const code = req.params.code;
          const [latest] = await db
            .select()
            .from(catalogItems)
            .where(eq(catalogItems.code, code))
            .orderBy(desc(catalogItems.version))
            .limit(1);
          if (!latest) throw notFound('证明事项不存在');
          // Deactivating every version: otherwise an older active version would become "current".
          await db
            .update(catalogItems)
            .set({ active })
            .where(
              active
                ? and(eq(catalogItems.code, code), eq(catalogItems.version, latest.version))
                : eq(catalogItems.code, code),
            );
          return catalogView(db, { ...latest, active });
        }),
    );
  }
};
