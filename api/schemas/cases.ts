/** Request and response schemas of the verification routes. */
import { Type } from 'typebox';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });

export const Tier = Type.Union([Type.Literal('30m'), Type.Literal('1d'), Type.Literal('2d')], {
  description: '时限：30m = 30 分钟（工作时间），1d = 1 个工作日，2d = 2 个工作日',
});
export const ResponseResult = Type.Union(
  [
    Type.Literal('consistent'),
    Type.Literal('inconsistent'),
    Type.Literal('not_found'),
    Type.Literal('partial'),
  ],
  { description: '核验结果：一致 / 不一致 / 查无此人（事） / 部分一致' },
);

export const CaseSummary = Type.Object({
  id: Type.String(),
  docNumber: Type.String({ description: '文号，如 淄公协〔2026〕123号' }),
  status: Type.String(),
  tier: Tier,
  requestingUnit: Type.String(),
  issuingUnit: Type.String(),
  catalogCode: Type.String(),
  catalogName: Nullable(Type.String()),
  subject: Type.String({ description: '脱敏后的核验对象' }),
  purpose: Type.String(),
  receivedAt: DateTime,
  dueAt: DateTime,
  flags: Type.Array(Type.String()),
  assigneeId: Nullable(Type.String()),
  assigneeName: Type.Optional(Nullable(Type.String({ description: '经办人（承办人）姓名' }))),
  registeredAt: Nullable(DateTime),
  completedAt: Nullable(DateTime),
  result: Nullable(Type.String()),
  late: Type.Boolean(),
  lateMinutes: Nullable(Type.Integer()),
  escalationLevel: Type.Integer({ description: '未关闭督办的最高级别：0 无督办，1 逾期督办，2 建议约谈' }),
  overdue: Type.Boolean(),
  dueInForce: Type.String({
    format: 'date-time',
    description: '现行办理时限：联席会议办公室责成限时办结时为责成时限，否则同 dueAt',
  }),
  orderedDueAt: Nullable(Type.String({ format: 'date-time', description: '责成限时办结的时限（督办中）' })),
  createdAt: DateTime,
});

const Json = Type.Record(Type.String(), Type.Unknown());

export const CaseDetail = Type.Object({
  case: Type.Intersect([CaseSummary, Type.Object({ assigneeName: Nullable(Type.String()) })]),
  access: Type.Union([Type.Literal('full'), Type.Literal('returned_part')]),
  content: Nullable(Json),
  answer: Nullable(Json),
  waitedWorkingMinutes: Nullable(Type.Integer()),
  tierReason: Nullable(Type.String({ description: '需求单位要求较长时限档次的理由（第四条）' })),
  replyNumber: Nullable(Type.String({ description: '反馈函的复函号（出具单位本单位按年编号）' })),
  applicationNumber: Nullable(Type.String({ description: '需求单位的办件号（仅本案单位可见）' })),
  verificationWait: Nullable(
    Type.Object(
      {
        intervals: Type.Array(Type.Object({ from: DateTime, to: Nullable(DateTime) })),
        totalMinutes: Type.Integer({ description: '各时段合计（自然时间，分钟）' }),
        workingMinutes: Nullable(Type.Integer({ description: '各时段合计（工作时间，分钟），办结时计算' })),
      },
      {
        description:
          '核验时间不计入需求单位办理时限（第七条）：协查在出具单位处的各时段（发出至反馈，扣除退回需求单位期间）',
      },
    ),
  ),
  deadlines: Type.Array(
    Type.Object({
      routingNo: Type.Integer(),
      issuingUnit: Type.String(),
      tier: Tier,
      dueAt: DateTime,
      kind: Type.Union(
        [
          Type.Literal('received'),
          Type.Literal('rerouted'),
          Type.Literal('reclassified'),
          Type.Literal('retimed'),
          Type.Literal('ordered'),
        ],
        { description: '收到 / 改派 / 调整档次 / 日历调整 / 责成限时办结' },
      ),
      reason: Type.String(),
      from: DateTime,
    }),
    { description: '本案先后适用的全部办理时限（第七条），按生效先后；逾期按当时适用的时限计算' },
  ),
  templates: Nullable(Type.Object({ request: Json, response: Json })),
  timeline: Type.Array(
    Type.Object({
      seq: Type.Integer(),
      type: Type.String(),
      at: DateTime,
      actorId: Nullable(Type.String()),
      actorName: Nullable(Type.String()),
      actorUnit: Nullable(Type.String()),
      onBehalfOf: Nullable(Type.String()),
      onBehalfOfName: Nullable(Type.String()),
      reason: Nullable(Type.String()),
      data: Json,
    }),
  ),
  escalations: Type.Array(
    Type.Object({
      id: Type.String(),
      level: Type.Integer(),
      status: Type.String(),
      openedAt: DateTime,
      missedDueAt: DateTime,
      orderedDueAt: Nullable(DateTime),
      orderNote: Nullable(Type.String()),
      closedAt: Nullable(DateTime),
      outcome: Nullable(Type.String()),
    }),
  ),
  attachments: Type.Array(
    Type.Object({
      id: Type.String(),
      fileName: Type.String(),
      mediaType: Type.String(),
      sizeBytes: Type.Integer(),
      uploaderUnit: Type.String(),
      createdAt: DateTime,
    }),
    { description: '本案引用的附件（反馈函附件、申请人自行提交的证明材料）' },
  ),
  ledger: Type.Array(
    Type.Object({
      id: Type.String(),
      kind: Type.String(),
      note: Type.String(),
      outcome: Nullable(Type.String()),
      recordedBy: Type.String(),
      at: DateTime,
    }),
  ),
});

export const CaseList = Type.Object({
  items: Type.Array(CaseSummary),
  nextCursor: Nullable(Type.String()),
  total: Type.Optional(Type.Integer({ description: '符合条件的总数（全部页）' })),
});

export const StartBody = Type.Object(
  {
    catalogCode: Type.String({ minLength: 1, maxLength: 64, description: '证明事项编码' }),
    issuingUnit: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: '出具单位（默认为事项所列第一个）' }),
    ),
    subject: Type.Object(
      {
        kind: Type.Union([Type.Literal('person'), Type.Literal('company')]),
        name: Type.String({ minLength: 1, maxLength: 100 }),
        idNumber: Type.String({
          minLength: 18,
          maxLength: 18,
          description: '公民身份号码或统一社会信用代码',
        }),
      },
      { additionalProperties: false },
    ),
    fields: Type.Record(Type.String(), Type.Unknown(), { description: '按事项协查函模板填写的字段' }),
    purpose: Type.String({
      minLength: 2,
      maxLength: 200,
      description: '用途（办理的事项），仅可用于该用途（第十二条）',
    }),
    tier: Type.Optional(Tier),
    applicationNumber: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        // Printable: no control characters, no leading or trailing white space.
        pattern: '^[^\\s\\x00-\\x1f\\x7f-\\x9f](?:[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f])?$',
        description: '需求单位本单位的办件号（可选），用于将核验等待时间从该办件的法定时限中扣除（第七条）',
      }),
    ),
    tierReason: Type.Optional(
      Type.String({
        minLength: 2,
        maxLength: 500,
        description: '要求比事项默认时限更长的档次时必填的理由（第四条），出具单位可见',
      }),
    ),
  },
  { additionalProperties: false },
);

const reason = (title: string) => Type.String({ minLength: 2, maxLength: 500, description: title });

export const ActionBodies = {
  register: Type.Object({}, { additionalProperties: false }),
  respond: Type.Object(
    {
      result: ResponseResult,
      fields: Type.Record(Type.String(), Type.Unknown(), { description: '按事项反馈函模板填写的字段' }),
      attachments: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 10 })),
    },
    { additionalProperties: false },
  ),
  return: Type.Object(
    {
      reason: reason('退回理由'),
      suggestedUnit: Type.Optional(Type.String({ maxLength: 64, description: '掌握该数据的单位（如知道）' })),
    },
    { additionalProperties: false },
  ),
  reroute: Type.Object(
    {
      issuingUnit: Type.String({ minLength: 1, maxLength: 64 }),
      note: Type.Optional(Type.String({ maxLength: 500 })),
    },
    { additionalProperties: false },
  ),
  close: Type.Object({ reason: reason('办结说明') }, { additionalProperties: false }),
  reclassify: Type.Object({ tier: Tier, reason: reason('调整理由') }, { additionalProperties: false }),
  urge: Type.Object(
    { reason: Type.Optional(Type.String({ maxLength: 500 })) },
    { additionalProperties: false },
  ),
  withdraw: Type.Object({ reason: reason('撤回理由') }, { additionalProperties: false }),
  unclaim: Type.Object({ reason: reason('取消认领理由') }, { additionalProperties: false }),
  offline: Type.Object(
    {
      channel: Type.Union([
        Type.Literal('fax'),
        Type.Literal('oa'),
        Type.Literal('email'),
        Type.Literal('on_site'),
        Type.Literal('other'),
      ]),
      note: reason('线下核验说明'),
      result: Type.Optional(ResponseResult),
    },
    { additionalProperties: false },
  ),
  applicantProof: Type.Object(
    {
      note: reason('申请人自行提交材料的说明'),
      attachments: Type.Optional(
        Type.Array(Type.String({ maxLength: 64 }), {
          maxItems: 10,
          description: '申请人所交证明材料的扫描件（先上传附件，本单位上传的）',
        }),
      ),
    },
    { additionalProperties: false },
  ),
  reassign: Type.Object(
    {
      toStaffId: Type.String({ minLength: 1, maxLength: 64 }),
      reason: Type.Optional(Type.String({ maxLength: 500 })),
    },
    { additionalProperties: false },
  ),
  ledger: Type.Object(
    {
      kind: Type.Union([
        Type.Literal('supplement_requested'),
        Type.Literal('supplement_received'),
        Type.Literal('on_site_check'),
        Type.Literal('note'),
      ]),
      note: reason('台账记录'),
      outcome: Type.Optional(Type.String({ maxLength: 500 })),
    },
    { additionalProperties: false },
  ),
};
