/**
 * Seeds: the calendar settings every installation needs, and — in the embedded default only — a demo
 * city (units, staff, catalog items). Idempotent: run at every start, it inserts only what is missing.
 */
import { hash } from '@node-rs/argon2';
import { and, eq, isNull } from 'drizzle-orm';
import { DEFAULT_OFFICE_HOURS } from '../domain/working-time/index.ts';
import type { Db } from './client.ts';
import { calendarSettings, catalogItems, staff, systemMeta, units } from './schema.ts';

export const DEMO_PASSWORD = 'demo1234';

export async function seedBase(db: Db): Promise<void> {
  await db
    .insert(calendarSettings)
    .values({
      id: 1,
      officeHours: [{ from: null, hours: DEFAULT_OFFICE_HOURS.map((h) => ({ ...h })) }],
      updatedBy: 'system',
    })
    .onConflictDoNothing();
}

const DEMO_UNITS = [
  {
    code: 'ZB-RS',
    name: '淄博市人力资源和社会保障局',
    docPrefix: '淄人社协',
    canRequest: true,
    canIssue: false,
  },
  { code: 'ZB-SJ', name: '淄博市市场监督管理局', docPrefix: '淄市监协', canRequest: true, canIssue: false },
  { code: 'ZB-GA', name: '淄博市公安局', docPrefix: '淄公协', canRequest: true, canIssue: true },
  { code: 'ZB-MZ', name: '淄博市民政局', docPrefix: '淄民协', canRequest: true, canIssue: true },
  {
    code: 'ZB-LXB',
    name: '淄博市证明事项核验工作联席会议办公室',
    docPrefix: '淄联办',
    canRequest: false,
    canIssue: false,
    kind: 'office' as const,
  },
];

type DemoStaff = {
  username: string;
  name: string;
  unit: string;
  role: 'liaison' | 'agent' | 'supervisor' | 'admin' | 'reviewer';
  partner?: string;
};

/** Every department meets Art. 6 (≥ 1 liaison, ≥ 2 agents), with A/B partners. */
const DEMO_STAFF: DemoStaff[] = [
  { username: 'req-a', name: '王芳', unit: 'ZB-RS', role: 'agent', partner: 'req-a2' },
  { username: 'req-a2', name: '李强', unit: 'ZB-RS', role: 'agent', partner: 'req-a' },
  { username: 'req-a-lia', name: '赵敏', unit: 'ZB-RS', role: 'liaison' },
  { username: 'req-b', name: '孙丽', unit: 'ZB-SJ', role: 'agent', partner: 'req-b2' },
  { username: 'req-b2', name: '周杰', unit: 'ZB-SJ', role: 'agent', partner: 'req-b' },
  { username: 'req-b-lia', name: '吴刚', unit: 'ZB-SJ', role: 'liaison' },
  { username: 'iss-a', name: '郑伟', unit: 'ZB-GA', role: 'agent', partner: 'iss-a2' },
  { username: 'iss-a2', name: '冯雪', unit: 'ZB-GA', role: 'agent', partner: 'iss-a' },
  { username: 'iss-a-lia', name: '陈静', unit: 'ZB-GA', role: 'liaison' },
  { username: 'iss-b', name: '褚亮', unit: 'ZB-MZ', role: 'agent', partner: 'iss-b2' },
  { username: 'iss-b2', name: '卫红', unit: 'ZB-MZ', role: 'agent', partner: 'iss-b' },
  { username: 'iss-b-lia', name: '蒋涛', unit: 'ZB-MZ', role: 'liaison' },
  { username: 'office', name: '韩梅', unit: 'ZB-LXB', role: 'supervisor' },
  { username: 'admin', name: '杨帆', unit: 'ZB-LXB', role: 'admin' },
  // The city government's reviewer (市政府督查): read-only on escalations and the office's records (Art. 11).
  { username: 'gov-review', name: '刘洋', unit: 'ZB-LXB', role: 'reviewer' },
];

export const demoStaffId = (username: string): string => `stf-${username}`;

const DEMO_BACKUP_LIAISONS: Record<string, string> = {
  'ZB-RS': 'req-a2',
  'ZB-SJ': 'req-b2',
  'ZB-GA': 'iss-a2',
  'ZB-MZ': 'iss-b2',
};

const text = (title: string, extra: Record<string, unknown> = {}) => ({
  type: 'string',
  title,
  minLength: 1,
  ...extra,
});

/** The embedded demo's 户籍 data service connector (app/demo-data-service.ts), named by HJ-001. */
export const DEMO_CONNECTOR = 'hukou-demo';
const DEMO_CONNECTOR_SEED = 'demo_connector';

const DEMO_CATALOG = [
  {
    code: 'HJ-001',
    name: '户籍信息证明',
    serviceItemName: '社会保险参保登记',
    serviceItemCode: '3700000000001',
    legalBasis: '《社会保险法》第五十八条',
    issuingUnitCodes: ['ZB-GA'],
    defaultTier: '30m' as const,
    exemptionMethod: '部门核验',
    // Answered from the embedded demo data service (app/demo-data-service.ts) when it runs.
    connector: DEMO_CONNECTOR,
    requestSchema: {
      type: 'object',
      required: ['declaredAddress'],
      additionalProperties: false,
      properties: { declaredAddress: text('申请人申报的户籍地址') },
    },
    responseSchema: {
      type: 'object',
      required: ['registeredAddress'],
      additionalProperties: false,
      properties: { registeredAddress: text('登记的户籍地址'), remark: { type: 'string', title: '备注' } },
    },
  },
  {
    code: 'WF-002',
    name: '无犯罪记录证明',
    serviceItemName: '教师资格认定',
    serviceItemCode: '3700000000002',
    legalBasis: '《教师资格条例》第四条',
    issuingUnitCodes: ['ZB-GA'],
    defaultTier: '1d' as const,
    exemptionMethod: '部门核验',
    requestSchema: {
      type: 'object',
      required: ['period'],
      additionalProperties: false,
      properties: { period: text('核查期间', { examples: ['2016年至今'] }) },
    },
    responseSchema: {
      type: 'object',
      required: ['hasRecord'],
      additionalProperties: false,
      properties: {
        hasRecord: { type: 'boolean', title: '是否有犯罪记录' },
        remark: { type: 'string', title: '备注' },
      },
    },
  },
  {
    code: 'HY-003',
    name: '婚姻登记信息',
    serviceItemName: '公共租赁住房申请',
    serviceItemCode: '3700000000003',
    legalBasis: '《公共租赁住房管理办法》第七条',
    issuingUnitCodes: ['ZB-MZ'],
    defaultTier: '1d' as const,
    exemptionMethod: '部门核验',
    requestSchema: {
      type: 'object',
      required: ['declaredStatus'],
      additionalProperties: false,
      properties: {
        declaredStatus: { type: 'string', title: '申报的婚姻状况', enum: ['未婚', '已婚', '离异', '丧偶'] },
      },
    },
    responseSchema: {
      type: 'object',
      required: ['registeredStatus'],
      additionalProperties: false,
      properties: {
        registeredStatus: {
          type: 'string',
          title: '登记的婚姻状况',
          enum: ['未婚', '已婚', '离异', '丧偶', '无登记'],
        },
        remark: { type: 'string', title: '备注' },
      },
    },
  },
  {
    code: 'DA-004',
    name: '历史婚姻档案查询（1995年以前）',
    serviceItemName: '不动产继承登记',
    serviceItemCode: '3700000000004',
    legalBasis: '《不动产登记暂行条例实施细则》第十四条',
    issuingUnitCodes: ['ZB-MZ', 'ZB-GA'],
    defaultTier: '2d' as const,
    exemptionMethod: '部门核验',
    requestSchema: {
      type: 'object',
      required: ['spouseName'],
      additionalProperties: false,
      properties: {
        spouseName: text('配偶姓名'),
        yearHint: { type: 'integer', title: '登记年份（大致）', minimum: 1949, maximum: 1995 },
      },
    },
    responseSchema: {
      type: 'object',
      required: ['found'],
      additionalProperties: false,
      properties: {
        found: { type: 'boolean', title: '是否查到档案' },
        archiveRef: { type: 'string', title: '档案号' },
      },
    },
  },
];

export async function seedDemo(db: Db): Promise<{ created: boolean }> {
  const [done] = await db.select().from(systemMeta).where(eq(systemMeta.key, 'demo_seed'));
  if (done) {
    await linkDemoConnector(db);
    return { created: false };
  }
  const passwordHash = await hash(DEMO_PASSWORD);
  await db.transaction(async (tx) => {
    await tx
      .insert(units)
      .values(DEMO_UNITS.map((u) => ({ kind: 'department' as const, ...u })))
      .onConflictDoNothing();
    await tx
      .insert(staff)
      .values(
        DEMO_STAFF.map((s) => ({
          id: demoStaffId(s.username),
          username: s.username,
          displayName: s.name,
          unitCode: s.unit,
          role: s.role,
          partnerId: s.partner ? demoStaffId(s.partner) : null,
          passwordHash,
          isDemo: true,
        })),
      )
      .onConflictDoNothing();
    // Each department's backup liaison (联络员B角): an agent who stands in while its liaison is absent.
    for (const [code, username] of Object.entries(DEMO_BACKUP_LIAISONS))
      await tx
        .update(units)
        .set({ backupLiaisonId: demoStaffId(username) })
        .where(eq(units.code, code));
    await tx
      .insert(catalogItems)
      // Every demo item is about a person (a resident ID), never a company.
      .values(DEMO_CATALOG.map((c) => ({ version: 1, subjectKinds: ['person' as const], ...c })))
      .onConflictDoNothing();
    await tx
      .insert(systemMeta)
      .values([
        { key: 'demo_seed', value: { at: new Date().toISOString() } },
        { key: DEMO_CONNECTOR_SEED, value: { at: new Date().toISOString() } },
      ])
      .onConflictDoNothing();
  });
  return { created: true };
}

/**
 * Demo data seeded before connectors existed: HJ-001 gets the demo connector once (an administrator who
 * later clears it is not overruled at the next start).
 */
async function linkDemoConnector(db: Db): Promise<void> {
  const [linked] = await db.select().from(systemMeta).where(eq(systemMeta.key, DEMO_CONNECTOR_SEED));
  if (linked) return;
  await db.transaction(async (tx) => {
    await tx
      .update(catalogItems)
      .set({ connector: DEMO_CONNECTOR })
      .where(and(eq(catalogItems.code, 'HJ-001'), isNull(catalogItems.connector)));
    await tx
      .insert(systemMeta)
      .values({ key: DEMO_CONNECTOR_SEED, value: { at: new Date().toISOString() } })
      .onConflictDoNothing();
  });
}

export const DEMO_LOGINS = DEMO_STAFF.filter((s) =>
  ['req-a', 'req-b', 'iss-a', 'iss-b', 'office', 'admin', 'gov-review'].includes(s.username),
);
