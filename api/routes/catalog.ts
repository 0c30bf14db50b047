/**
 * Read-only reference data for every logged-in person: the catalog of certificate items with their
 * request and response templates (forms are generated from these, Art. 4), and the units for pickers.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { and, asc, desc, eq } from 'drizzle-orm';
import { Type } from 'typebox';
import type { Db } from '../../db/client.ts';
import { catalogItems, units } from '../../db/schema.ts';
import { staffOf } from '../plugins/auth.ts';
import { notFound } from '../problem.ts';
import { Tier } from '../schemas/cases.ts';
import { errorResponses } from '../schemas/common.ts';
import { type CatalogItem, currentCatalogItem } from '../services/catalog.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const Json = Type.Record(Type.String(), Type.Unknown());

export const CatalogItemView = Type.Object({
  code: Type.String(),
  version: Type.Integer(),
  name: Type.String(),
  serviceItemName: Type.String({ description: '服务的政务服务事项' }),
  serviceItemCode: Nullable(Type.String()),
  legalBasis: Type.String({ description: '设定依据' }),
  issuingUnits: Type.Array(Type.Object({ code: Type.String(), name: Type.String() }), {
    description: '出具单位，第一个为默认',
  }),
  defaultTier: Tier,
  exemptionMethod: Type.String({ description: '免提交方式' }),
  requestSchema: Json,
  responseSchema: Json,
  subjectKinds: Type.Array(Type.Union([Type.Literal('person'), Type.Literal('company')]), {
    description: '核验对象类型：person 个人（公民身份号码），company 企业（统一社会信用代码）',
  }),
  connector: Nullable(
    Type.String({ description: '自动核验的数据源连接器名称（只有名称；地址与密钥只在服务端配置中）' }),
  ),
  active: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
});

/** Catalog rows as the API shows them, with the issuing units' names. */
export async function catalogViews(db: Db, items: CatalogItem[]) {
  const names = new Map((await db.select().from(units)).map((u) => [u.code, u.name] as const));
  return items.map((i) => ({
    code: i.code,
    version: i.version,
    name: i.name,
    serviceItemName: i.serviceItemName,
    serviceItemCode: i.serviceItemCode,
    legalBasis: i.legalBasis,
    issuingUnits: i.issuingUnitCodes.map((code) => ({ code, name: names.get(code) ?? code })),
    defaultTier: i.defaultTier,
    exemptionMethod: i.exemptionMethod,
    requestSchema: i.requestSchema,
    responseSchema: i.responseSchema,
    subjectKinds: i.subjectKinds,
    connector: i.connector,
    active: i.active,
    createdAt: i.createdAt.toISOString(),
  }));
}

export async function catalogView(db: Db, item: CatalogItem) {
  const [view] = await catalogViews(db, [item]);
  if (!view) throw new Error('catalog view missing');
  return view;
}

/** The newest version of each item (active ones only unless `includeInactive`). */
export async function latestCatalogItems(db: Db, includeInactive = false): Promise<CatalogItem[]> {
  const rows = await db
    .select()
    .from(catalogItems)
    .where(includeInactive ? undefined : eq(catalogItems.active, true))
    .orderBy(asc(catalogItems.code), desc(catalogItems.version));
  return rows.filter((r, i) => i === 0 || rows[i - 1]?.code !== r.code);
}

export const catalogRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  app.get(
    '/api/v1/catalog',
    {
      schema: {
        tags: ['证明事项'],
        summary: '证明事项清单（在用的最新版本，含协查函和反馈函模板）',
        security: [{ bearer: [] }],
        querystring: Type.Object(
          { issuingUnit: Type.Optional(Type.String({ maxLength: 32, description: '只看该单位出具的事项' })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(CatalogItemView) }), ...errorResponses() },
      },
    },
    async (req) => {
      staffOf(req);
      const items = (await latestCatalogItems(db)).filter(
        (i) => !req.query.issuingUnit || i.issuingUnitCodes.includes(req.query.issuingUnit),
      );
      return { items: await catalogViews(db, items) };
    },
  );

  app.get(
    '/api/v1/catalog/:code',
    {
      schema: {
        tags: ['证明事项'],
        summary: '一个证明事项（在用的最新版本；带 version 参数时为该版本）',
        security: [{ bearer: [] }],
        params: Type.Object({ code: Type.String({ minLength: 1, maxLength: 64 }) }),
        querystring: Type.Object(
          {
            version: Type.Optional(
              Type.Integer({ minimum: 1, maximum: 2147483647, description: '历史版本（进行中的协查所用）' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: CatalogItemView, ...errorResponses(404) },
      },
    },
    async (req) => {
      staffOf(req);
      const { code } = req.params;
      const version = req.query.version;
      const [item] =
        version === undefined
          ? [await currentCatalogItem(db, code)]
          : await db
              .select()
              .from(catalogItems)
              .where(and(eq(catalogItems.code, code), eq(catalogItems.version, version)));
      if (!item) throw notFound('证明事项不存在或已停用');
      return catalogView(db, item);
    },
  );

  app.get(
    '/api/v1/units',
    {
      schema: {
        tags: ['证明事项'],
        summary: '单位列表（选择出具单位等）',
        security: [{ bearer: [] }],
        querystring: Type.Object(
          {
            canIssue: Type.Optional(Type.Boolean()),
            canRequest: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                code: Type.String(),
                name: Type.String(),
                canRequest: Type.Boolean(),
                canIssue: Type.Boolean(),
              }),
            ),
          }),
          ...errorResponses(),
        },
      },
    },
    async (req) => {
      staffOf(req);
      const rows = await db.select().from(units).orderBy(asc(units.code));
      const { canIssue, canRequest } = req.query;
      return {
        items: rows
          .filter((u) => canIssue === undefined || u.canIssue === canIssue)
          .filter((u) => canRequest === undefined || u.canRequest === canRequest)
          .map((u) => ({ code: u.code, name: u.name, canRequest: u.canRequest, canIssue: u.canIssue })),
      };
    },
  );
};
