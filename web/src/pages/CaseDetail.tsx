/**
 * One case: what was asked and answered, the deadline, the timeline, escalations and ledger, and the
 * actions the person's unit may take now (issuing: register, respond, return, reclassify; requesting:
 * re-route or close after a return, withdraw, urge, offline exchange, applicant proof, ledger).
 */
import { FileTextOutlined, PrinterOutlined } from '@ant-design/icons';
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  Descriptions,
  Empty,
  Form,
  Grid,
  Input,
  Row,
  Select,
  Space,
  Spin,
  Table,
  Tag,
  Timeline,
  Typography,
} from 'antd';
import { useState } from 'react';
import type { Attachment } from '../api.ts';
import { api, currentSession, downloadAttachment, newIdempotencyKey, uploadAttachment } from '../api.ts';
import {
  BackButton,
  DeadlineInForce,
  fieldErrorsOf,
  fieldRows,
  LinkButton,
  PageHeader,
  ProblemAlert,
  RecordTable,
  ResultTag,
  SchemaForm,
  SchemaView,
  SlaTag,
  StatusTag,
  SupervisionTag,
} from '../components.tsx';
import { useApi, useUnits } from '../data.ts';
import { FilePicker } from '../file-picker.tsx';
import { t } from '../i18n.ts';
import {
  CHANNELS,
  channelLabel,
  EVENT_COLOR,
  escLevelLabel,
  escStatusLabel,
  eventLabel,
  flagLabel,
  LEDGER_KINDS,
  ledgerLabel,
  RESULTS,
  resultLabel,
  roleLabel,
  TIERS,
  tierLabel,
} from '../labels.ts';
import { useLive } from '../live.ts';
import { durationText, fmt } from '../time.ts';
import type { CaseDetail, JsonObject, TimelineEntry } from '../types.ts';
import { ActionModal, type ActionSpec } from './ActionModal.tsx';
import { DisputePanel } from './Disputes.tsx';

const PURPOSE_KEY = (id: string) => `xiecha.purpose.${id}`;

function SupervisorPurpose({ onSet }: { onSet: (p: string) => void }) {
  return (
    <Card title={t('查阅目的')} style={{ maxWidth: 560 }}>
      <Typography.Paragraph>
        {t('联席会议办公室查阅协查内容须说明目的，查阅将被记录（第十二条）。')}
      </Typography.Paragraph>
      <Form
        layout="vertical"
        initialValues={{ purpose: t('督办逾期协查') }}
        onFinish={(v) => onSet(v.purpose.trim())}
      >
        <Form.Item
          name="purpose"
          label={t('查阅目的')}
          rules={[{ required: true, min: 2, whitespace: true, message: t('至少 2 个字') }]}
        >
          <Input maxLength={200} />
        </Form.Item>
        <Button type="primary" htmlType="submit">
          {t('查看')}
        </Button>
      </Form>
    </Card>
  );
}

function timelineText(e: TimelineEntry, unitName: (c: string) => string): string[] {
  const lines: string[] = [];
  const d = e.data ?? {};
  if (e.type === 'created' && typeof d.dueAt === 'string') lines.push(`${t('办理时限')}：${fmt(d.dueAt)}`);
  if (e.type === 'rerouted' && typeof d.issuingUnit === 'string')
    lines.push(`${t('改派给')}：${unitName(d.issuingUnit)}`);
  if (e.type === 'reclassified' && typeof d.to === 'string') lines.push(`→ ${tierLabel(d.to)}`);
  if (e.type === 'answered' && typeof d.result === 'string')
    lines.push(`${t('核验结果')}：${resultLabel(d.result)}`);
  if (e.type === 'answered' && typeof d.source === 'string') lines.push(`${t('数据来源')}：${d.source}`);
  if (e.type === 'deadline_ordered' && typeof d.dueAt === 'string')
    lines.push(`${t('限办时间')}：${fmt(d.dueAt)}`);
  if ((e.type === 'escalated' || e.type === 'escalated_level2') && typeof d.missedDueAt === 'string')
    lines.push(`${t('错过的时限')}：${fmt(d.missedDueAt)}`);
  if (e.type === 'ended_offline' && typeof d.channel === 'string')
    lines.push(`${t('渠道')}：${channelLabel(d.channel)}`);
  if (e.type === 'returned' && typeof d.suggestedUnit === 'string')
    lines.push(`${t('建议的出具单位')}：${unitName(d.suggestedUnit)}`);
  if (e.reason) lines.push(e.reason);
  return lines;
}

/**
 * The response template without any default: an answer is legally significant, so every answer field
 * starts empty (a yes/no field too) and is chosen on purpose.
 */
function withoutDefaults(schema: JsonObject | null | undefined): JsonObject {
  const base = schema ?? { type: 'object', properties: {} };
  const { default: _d, ...rest } = base as JsonObject & { default?: unknown };
  const props = (rest.properties ?? {}) as Record<string, JsonObject>;
  return {
    ...rest,
    properties: Object.fromEntries(
      Object.entries(props).map(([k, p]) => {
        const { default: _pd, ...prop } = p as JsonObject & { default?: unknown };
        return [k, prop];
      }),
    ),
  };
}

function RespondCard({ detail, onDone }: { detail: CaseDetail; onDone: () => void }) {
  const { message, modal } = App.useApp();
  const schema = withoutDefaults(detail.templates?.response);
  const [result, setResult] = useState<string>();
  const [resultError, setResultError] = useState<string>();
  const [fields, setFields] = useState<JsonObject>({});
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [key] = useState(newIdempotencyKey);
  const [files, setFiles] = useState<Attachment[]>([]);
  const [uploading, setUploading] = useState(false);

  const upload = async (list: File[] | null) => {
    if (!list?.length) return;
    setUploading(true);
    setError(undefined);
    try {
      for (const f of Array.from(list)) {
        const a = await uploadAttachment(f);
        setFiles((prev) => [...prev, a]);
      }
    } catch (e) {
      setError(e);
    } finally {
      setUploading(false);
    }
  };

  /** Repeats the answer (result, fields, files) and sends it only once confirmed. */
  const confirm = (values: JsonObject) => {
    if (!result) {
      setResultError(t('请选择核验结果'));
      document.getElementById('respond-result')?.focus();
      return;
    }
    modal.confirm({
      title: t('确认提交反馈'),
      okText: t('提交反馈'),
      cancelText: t('返回修改'),
      width: 520,
      content: (
        <div data-testid="respond-confirm">
          <p>{t('反馈提交后不能修改，请核对：')}</p>
          <Descriptions
            size="small"
            bordered
            column={1}
            className="long-text-descriptions"
            items={[
              {
                key: 'result',
                label: t('核验结果'),
                children: <strong data-testid="confirm-result">{resultLabel(result)}</strong>,
              },
              ...fieldRows(schema, values).map(([label, value], i) => ({
                key: `f${i}`,
                label,
                children: value,
              })),
              ...(files.length
                ? [{ key: 'files', label: t('附件'), children: files.map((f) => f.fileName).join('、') }]
                : []),
            ]}
          />
        </div>
      ),
      onOk: () => submit(values),
    });
  };

  const submit = async (values: JsonObject) => {
    if (!result) return;
    setBusy(true);
    setError(undefined);
    try {
      await api.post(
        `/api/v1/verifications/${encodeURIComponent(detail.case.id)}/respond`,
        { result, fields: values, ...(files.length ? { attachments: files.map((f) => f.id) } : {}) },
        key,
      );
      void message.success(t('已反馈'));
      onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card title={t('反馈（反馈函）')} size="small" style={{ marginBottom: 16 }} data-testid="respond-card">
      <ProblemAlert error={error} />
      <Form layout="vertical">
        <Form.Item
          label={t('核验结果')}
          htmlFor="respond-result"
          required
          validateStatus={resultError ? 'error' : undefined}
          help={resultError}
        >
          <Select
            id="respond-result"
            value={result}
            placeholder={t('请选择核验结果')}
            onChange={(v) => {
              setResult(v);
              setResultError(undefined);
            }}
            options={RESULTS.map((r) => ({ value: r, label: resultLabel(r) }))}
            disabled={busy}
          />
        </Form.Item>
        <Form.Item
          label={t('附件（可选）')}
          htmlFor="respond-files"
          extra={t('PDF、OFD、JPEG 或 PNG，每个不超过 10 MB，最多 10 个')}
        >
          <FilePicker
            id="respond-files"
            disabled={busy || files.length >= 10}
            busy={uploading}
            onFiles={(list) => void upload(list)}
          />
          {files.length > 0 && (
            <ul style={{ margin: '8px 0 0', paddingInlineStart: 20 }}>
              {files.map((f) => (
                <li key={f.id}>
                  {f.fileName}（{Math.ceil(f.sizeBytes / 1024)} KB）{' '}
                  <Button
                    size="small"
                    type="link"
                    onClick={() => setFiles((prev) => prev.filter((x) => x.id !== f.id))}
                  >
                    {t('移除')}
                  </Button>
                </li>
              ))}
            </ul>
          )}
        </Form.Item>
      </Form>
      <SchemaForm
        idPrefix="resp"
        schema={schema}
        formData={fields}
        onChange={setFields}
        onSubmit={confirm}
        onInvalid={() => {
          if (!result) setResultError(t('请选择核验结果'));
        }}
        noDefaults
        submitText={t('提交反馈')}
        busy={busy}
        extraErrors={fieldErrorsOf(error)}
      />
    </Card>
  );
}

export function CaseDetailPage({ id }: { id: string }) {
  const session = currentSession();
  const units = useUnits();
  const isSupervisor = session?.staff.role === 'supervisor';
  const [purpose, setPurpose] = useState<string | undefined>(
    () => sessionStorage.getItem(PURPOSE_KEY(id)) ?? undefined,
  );
  const needPurpose = isSupervisor && !purpose;
  const { data, error, loading, reload } = useApi<CaseDetail>(
    needPurpose ? undefined : `/api/v1/verifications/${encodeURIComponent(id)}`,
    isSupervisor ? { purpose } : undefined,
  );
  const [action, setAction] = useState<ActionSpec>();
  // A register click's error, shown at the top (the other actions show theirs in their dialog).
  const [actionError, setActionError] = useState<unknown>();
  const wide = Grid.useBreakpoint().lg !== false;
  // A liaison may hand a registered case to a colleague of the unit (转派).
  const colleagues = useApi<{ items: { id: string; displayName: string; role: string; active: boolean }[] }>(
    session?.staff.role === 'liaison'
      ? `/api/v1/units/${encodeURIComponent(session.staff.unitCode)}/staff`
      : undefined,
  );

  useLive((e) => {
    if (e.type === 'poll' || e.caseId === id) void reload(true);
  });

  if (needPurpose)
    return (
      <div>
        <PageHeader title={t('详情')} extra={<BackButton to="/escalations" />} />
        <SupervisorPurpose
          onSet={(p) => {
            sessionStorage.setItem(PURPOSE_KEY(id), p);
            setPurpose(p);
          }}
        />
      </div>
    );
  if (loading && !data) return <Spin />;
  if (!data)
    return (
      <div>
        <PageHeader title={t('详情')} extra={<BackButton to="/" />} />
        <ProblemAlert error={error} />
      </div>
    );

  const c = data.case;
  const me = session?.staff;
  const mine = me?.unitCode;
  const isIssuer = mine === c.issuingUnit && me?.role !== 'supervisor';
  const isRequester = mine === c.requestingUnit && me?.role !== 'supervisor';
  const base = `/api/v1/verifications/${encodeURIComponent(c.id)}`;
  const withIssuer = c.status === 'awaiting_registration' || c.status === 'registered';
  const open = withIssuer || c.status === 'returned';
  // Files bound to the case other than the response's own (e.g. the applicant's proof, Art. 9).
  const otherFiles = (data.attachments ?? []).filter((a) => !data.answer?.attachments?.includes(a.id));
  // The automatic answer could not answer: why (shown until a person answers).
  const autoFallback = data.timeline.findLast((e) => e.type === 'auto_check_fallback');
  // Art. 8: after any answer, or once the case ended (on-site check when department verification failed).
  const ledgerOk =
    c.result !== null || !['awaiting_registration', 'registered', 'returned'].includes(c.status);
  const issuers = units.units.filter((u) => u.canIssue && u.code !== c.issuingUnit && u.code !== mine);
  const reasonField = (label: string) => ({
    name: 'reason',
    label,
    kind: 'textarea' as const,
    required: true,
    min: 2,
  });
  const onDone = () => {
    setAction(undefined);
    void reload(true);
  };

  const actions: { key: string; label: string; spec?: ActionSpec; onClick?: () => void; danger?: boolean }[] =
    [];
  if (isIssuer && withIssuer) {
    if (c.status === 'awaiting_registration')
      actions.push({
        key: 'register',
        label: t('登记受理'),
        onClick: async () => {
          try {
            setActionError(undefined);
            await api.post(`${base}/register`, {});
            void reload(true);
          } catch (e) {
            setActionError(e);
          }
        },
      });
    actions.push({
      key: 'return',
      label: t('退回'),
      danger: true,
      spec: {
        title: t('退回（非本单位职责）'),
        path: `${base}/return`,
        okText: t('退回'),
        danger: true,
        done: t('已退回'),
        intro: t('请说明理由；如知道掌握该数据的单位，请一并建议。'),
        fields: [
          reasonField(t('退回理由')),
          {
            name: 'suggestedUnit',
            label: t('建议的出具单位'),
            kind: 'select',
            options: units.units
              .filter((u) => u.canIssue && u.code !== mine)
              .map((u) => ({ value: u.code, label: u.name })),
          },
        ],
      },
    });
    const others = (colleagues.data?.items ?? []).filter(
      (p) => p.active && p.id !== c.assigneeId && (p.role === 'agent' || p.role === 'liaison'),
    );
    if (c.status === 'registered' && me && (me.id === c.assigneeId || me.role === 'liaison'))
      actions.push({
        key: 'unclaim',
        label: t('取消认领'),
        spec: {
          title: t('取消认领，交回本单位待认领'),
          path: `${base}/unclaim`,
          okText: t('取消认领'),
          done: t('已交回待认领'),
          intro: t('任务回到本单位“待认领”，办理时限不变；首次登记受理时间仍保留（第七条）。'),
          fields: [reasonField(t('取消认领理由'))],
        },
      });
    if (c.status === 'registered' && me?.role === 'liaison' && others.length)
      actions.push({
        key: 'reassign',
        label: t('转派'),
        spec: {
          title: t('转派给本单位另一承办人'),
          path: `${base}/reassign`,
          okText: t('转派'),
          done: t('已转派'),
          fields: [
            {
              name: 'toStaffId',
              label: t('承办人'),
              kind: 'select',
              required: true,
              options: others.map((p) => ({
                value: p.id,
                label: `${p.displayName}（${roleLabel(p.role)}）`,
              })),
            },
            { name: 'reason', label: t('说明'), kind: 'textarea' },
          ],
        },
      });
    const higher = TIERS.slice(TIERS.indexOf(c.tier) + 1);
    if (higher.length)
      actions.push({
        key: 'reclassify',
        label: t('调整时限'),
        spec: {
          title: t('调整时限档次'),
          path: `${base}/reclassify`,
          okText: t('保存'),
          done: t('时限已调整'),
          intro: t('只能上调（如需查阅纸质档案或多处查找），须说明理由（第七条）。'),
          fields: [
            {
              name: 'tier',
              label: t('新的时限档次'),
              kind: 'radio',
              required: true,
              initial: higher[0],
              options: higher.map((x) => ({ value: x, label: tierLabel(x) })),
            },
            reasonField(t('调整理由')),
          ],
        },
      });
  }
  if (isRequester && c.status === 'returned') {
    actions.push({
      key: 'reroute',
      label: t('改派'),
      spec: {
        title: t('改派给另一出具单位'),
        path: `${base}/reroute`,
        okText: t('改派'),
        done: t('已改派'),
        fields: [
          {
            name: 'issuingUnit',
            label: t('改派给'),
            kind: 'select',
            required: true,
            options: issuers.map((u) => ({ value: u.code, label: u.name })),
          },
          { name: 'note', label: t('说明'), kind: 'textarea' },
        ],
      },
    });
    actions.push({
      key: 'close',
      label: t('办结关闭'),
      spec: {
        title: t('被退回后办结关闭'),
        path: `${base}/close`,
        okText: t('办结关闭'),
        done: t('已办结'),
        fields: [reasonField(t('办结说明'))],
      },
    });
  }
  if (isRequester && open) {
    if (withIssuer)
      actions.push({
        key: 'urge',
        label: t('催办'),
        spec: {
          title: t('催办'),
          path: `${base}/urge`,
          okText: t('催办'),
          done: t('已催办'),
          fields: [{ name: 'reason', label: t('说明'), kind: 'textarea' }],
        },
      });
    actions.push({
      key: 'offline',
      label: t('登记线下核验'),
      spec: {
        title: t('登记线下核验（第三条）'),
        path: `${base}/offline`,
        okText: t('保存'),
        done: t('已登记线下核验'),
        intro: t(
          '系统无法核验时（如故障、涉密），经 OA、传真、电子邮件或实地核查完成的核验，在此登记，使协查完整可考核。',
        ),
        fields: [
          {
            name: 'channel',
            label: t('渠道'),
            kind: 'radio',
            required: true,
            options: CHANNELS.map((x) => ({ value: x, label: channelLabel(x) })),
          },
          { name: 'note', label: t('说明'), kind: 'textarea', required: true, min: 2 },
          {
            name: 'result',
            label: t('核验结果'),
            kind: 'select',
            options: RESULTS.map((r) => ({ value: r, label: resultLabel(r) })),
          },
        ],
      },
    });
    actions.push({
      key: 'applicant-proof',
      label: t('登记申请人自行提交'),
      spec: {
        title: t('申请人自行提交证明材料（第九条）'),
        path: `${base}/applicant-proof`,
        okText: t('保存'),
        done: t('已登记'),
        fields: [
          { name: 'note', label: t('说明'), kind: 'textarea', required: true, min: 2 },
          {
            name: 'attachments',
            label: t('证明材料扫描件（可选）'),
            kind: 'files',
            extra: t('PDF、OFD、JPEG 或 PNG，每个不超过 10 MB，最多 10 个'),
          },
        ],
      },
    });
    actions.push({
      key: 'withdraw',
      label: t('撤回'),
      danger: true,
      spec: {
        title: t('撤回协查'),
        path: `${base}/withdraw`,
        okText: t('撤回'),
        danger: true,
        done: t('已撤回'),
        fields: [reasonField(t('撤回理由'))],
      },
    });
  }
  if (isRequester && ledgerOk)
    actions.push({
      key: 'ledger',
      label: t('记录台账'),
      spec: {
        title: t('记录台账（第八条）'),
        path: `${base}/ledger`,
        okText: t('保存'),
        done: t('台账已记录'),
        fields: [
          {
            name: 'kind',
            label: t('类型'),
            kind: 'radio',
            required: true,
            initial: 'supplement_requested',
            options: LEDGER_KINDS.map((k) => ({ value: k, label: ledgerLabel(k) })),
          },
          { name: 'note', label: t('说明'), kind: 'textarea', required: true, min: 2 },
          { name: 'outcome', label: t('处理结果'), kind: 'text' },
        ],
      },
    });

  const actionCard = actions.length > 0 && (
    <Card title={t('操作')} size="small" style={{ marginBottom: 16 }}>
      <Space wrap>
        {actions.map((a) => (
          <Button
            key={a.key}
            danger={a.danger}
            type={a.key === 'register' ? 'primary' : 'default'}
            onClick={() => (a.spec ? setAction(a.spec) : a.onClick?.())}
          >
            {a.label}
          </Button>
        ))}
      </Space>
    </Card>
  );

  return (
    <div>
      <PageHeader
        title={
          <span>
            <span data-testid="doc-number">{c.docNumber}</span> <StatusTag status={c.status} />{' '}
            <SupervisionTag c={c} />
          </span>
        }
        extra={
          <>
            <LinkButton to={`/cases/${encodeURIComponent(c.id)}/letter/request`} icon={<FileTextOutlined />}>
              {t('协查函')}
            </LinkButton>
            {c.status === 'answered' && (
              <LinkButton
                to={`/cases/${encodeURIComponent(c.id)}/letter/response`}
                icon={<PrinterOutlined />}
              >
                {t('反馈函')}
              </LinkButton>
            )}
            <BackButton to={isSupervisor ? '/escalations' : isIssuer ? '/inbox' : '/outbox'} />
          </>
        }
      />
      {(withIssuer || c.escalationLevel > 0) && (
        <div className="case-deadline-strip" data-testid="case-deadline">
          <Typography.Text type="secondary">
            {c.orderedDueAt ? t('现行办理时限（责成限时办结）') : t('现行办理时限')}：
          </Typography.Text>
          <DeadlineInForce c={c} />
          {c.orderedDueAt && (
            <Typography.Text type="secondary" className="case-deadline-original">
              {t('原时限')}：{fmt(c.dueAt)}
            </Typography.Text>
          )}
        </div>
      )}
      <ProblemAlert error={actionError} onClose={() => setActionError(undefined)} />
      <DisputePanel c={c} canFile={isIssuer && withIssuer} onChanged={() => void reload(true)} />
      {data.access === 'returned_part' && (
        <Alert
          type="info"
          showIcon
          title={t('本单位已退回此协查，仅显示本单位经办部分。')}
          style={{ marginBottom: 16 }}
        />
      )}
      {!wide && actionCard}
      <Row gutter={16}>
        <Col xs={24} lg={16}>
          <Card size="small" style={{ marginBottom: 16 }} data-testid="case-summary">
            <Descriptions
              size="small"
              column={{ xs: 1, sm: 2 }}
              items={[
                { key: 'item', label: t('事项'), children: c.catalogName ?? c.catalogCode },
                {
                  key: 'subject',
                  label: t('核验对象'),
                  // The same subject as the content below (masked or in full, by the one rule of the API).
                  children: (
                    <span data-testid="case-subject">
                      {data.content?.subject
                        ? `${data.content.subject.name}（${data.content.subject.idNumber}）`
                        : c.subject}
                    </span>
                  ),
                },
                { key: 'req', label: t('需求单位'), children: units.name(c.requestingUnit) },
                { key: 'iss', label: t('出具单位'), children: units.name(c.issuingUnit) },
                {
                  key: 'purpose',
                  label: t('用途'),
                  span: 'filled',
                  children: <span data-testid="case-purpose">{c.purpose}</span>,
                },
                { key: 'tier', label: t('时限档次'), children: tierLabel(c.tier) },
                { key: 'received', label: t('收到时间'), children: fmt(c.receivedAt) },
                {
                  key: 'due',
                  label: t('办理时限'),
                  children: (
                    <Space wrap size={4}>
                      <span>{fmt(c.dueInForce ?? c.dueAt)}</span>
                      {c.orderedDueAt && <Tag color="red">{t('责成时限')}</Tag>}
                      <SlaTag c={c} />
                    </Space>
                  ),
                },
                { key: 'assignee', label: t('承办人'), children: data.case.assigneeName ?? '—' },
                {
                  key: 'result',
                  label: t('结果'),
                  children: (
                    <span data-testid="case-result">
                      <ResultTag result={c.result} />
                    </span>
                  ),
                },
                { key: 'completed', label: t('办结时间'), children: fmt(c.completedAt) },
                {
                  key: 'waited',
                  label: t('等待核验用时'),
                  children:
                    data.waitedWorkingMinutes == null
                      ? '—'
                      : t('{n} 分钟（工作时间）', { n: data.waitedWorkingMinutes }),
                },
              ]}
            />
            {c.flags.length > 0 && (
              <div style={{ marginTop: 8 }}>
                {c.flags.map((f) => (
                  <Tag key={f} color="warning">
                    {flagLabel(f)}
                  </Tag>
                ))}
              </div>
            )}
            {c.late && c.lateMinutes != null && (
              <Alert
                type="error"
                showIcon
                style={{ marginTop: 8 }}
                title={`${t('逾期反馈')}：${durationText(c.lateMinutes)}（${t('工作时间')}）`}
              />
            )}
          </Card>

          {data.content && (
            <Card title={t('协查内容')} size="small" style={{ marginBottom: 16 }}>
              {data.content.subject && (
                <Descriptions
                  size="small"
                  bordered
                  column={1}
                  style={{ marginBottom: 12 }}
                  items={[
                    {
                      key: 'n',
                      label: data.content.subject.kind === 'company' ? t('企业名称') : t('姓名'),
                      children: <span data-testid="content-subject-name">{data.content.subject.name}</span>,
                    },
                    {
                      key: 'i',
                      label:
                        data.content.subject.kind === 'company' ? t('统一社会信用代码') : t('公民身份号码'),
                      children: (
                        <span className="mono" data-testid="content-subject-id">
                          {data.content.subject.idNumber}
                        </span>
                      ),
                    },
                  ]}
                />
              )}
              <SchemaView schema={data.templates?.request} data={data.content.fields ?? {}} />
            </Card>
          )}
          {autoFallback && !data.answer && (
            <Alert
              type="warning"
              showIcon
              style={{ marginBottom: 16 }}
              data-testid="auto-check-fallback"
              message={t('自动核验未能答复，已转人工办理')}
              description={autoFallback.reason}
            />
          )}
          {data.answer && (
            <Card title={t('反馈内容')} size="small" style={{ marginBottom: 16 }} data-testid="answer">
              {data.answer.automatic && (
                <Alert
                  type="success"
                  showIcon
                  style={{ marginBottom: 12 }}
                  data-testid="automatic-answer"
                  message={data.timeline.find((e) => e.type === 'answered')?.actorName ?? t('系统自动核验')}
                  description={
                    <div>
                      <div>
                        {t('数据来源')}：{data.answer.automatic.source}
                      </div>
                      <div>
                        {t('查询时间')}：{fmt(data.answer.automatic.queriedAt)}
                      </div>
                      <div style={{ wordBreak: 'break-all' }}>
                        {t('证据摘要')}（SHA-256）：<code>{data.answer.automatic.evidenceHash}</code>
                      </div>
                    </div>
                  }
                />
              )}
              <SchemaView schema={data.templates?.response} data={data.answer.fields ?? {}} />
              {(data.answer.attachments?.length ?? 0) > 0 && (
                <div style={{ marginTop: 8 }}>
                  <Typography.Text type="secondary">{t('附件')}：</Typography.Text>
                  <Space wrap>
                    {data.answer.attachments?.map((a, i) => (
                      <Button
                        key={a}
                        size="small"
                        onClick={() => downloadAttachment(a).catch((e) => setActionError(e))}
                      >
                        {t('附件')} {i + 1}
                      </Button>
                    ))}
                  </Space>
                </div>
              )}
            </Card>
          )}
          {otherFiles.length > 0 && (
            <Card title={t('附件')} size="small" style={{ marginBottom: 16 }} data-testid="case-attachments">
              <Space wrap>
                {otherFiles.map((a) => (
                  <Button
                    key={a.id}
                    size="small"
                    onClick={() => downloadAttachment(a.id).catch((e) => setActionError(e))}
                  >
                    {a.fileName}
                  </Button>
                ))}
              </Space>
            </Card>
          )}
          {isIssuer && c.status === 'registered' && (
            <RespondCard detail={data} onDone={() => void reload(true)} />
          )}
          {isIssuer && c.status === 'awaiting_registration' && (
            <Alert
              type="warning"
              showIcon
              style={{ marginBottom: 16 }}
              title={t('请立即登记受理（第七条），登记后即可反馈。')}
            />
          )}

          {data.escalations.length > 0 && (
            <Card title={t('督办记录')} size="small" style={{ marginBottom: 16 }}>
              <RecordTable
                testId="escalation-records"
                rows={data.escalations}
                columns={[
                  { key: 'level', title: t('逾期级别'), render: (r) => escLevelLabel(r.level) },
                  { key: 'status', title: t('状态'), render: (r) => escStatusLabel(r.status) },
                  { key: 'missed', title: t('错过的时限'), render: (r) => fmt(r.missedDueAt) },
                  { key: 'ordered', title: t('责成时限'), render: (r) => fmt(r.orderedDueAt) },
                  { key: 'outcome', title: t('处理结果'), render: (r) => r.outcome ?? '—' },
                ]}
              />
            </Card>
          )}
          {(data.ledger.length > 0 || (isRequester && ledgerOk)) && (
            <Card title={t('台账')} size="small" style={{ marginBottom: 16 }}>
              {data.ledger.length ? (
                <Table
                  size="small"
                  rowKey="id"
                  pagination={false}
                  className="long-text-table"
                  dataSource={data.ledger}
                  columns={[
                    { title: t('日期'), dataIndex: 'at', className: 'nowrap', render: (v: string) => fmt(v) },
                    { title: t('类型'), dataIndex: 'kind', render: (v: string) => ledgerLabel(v) },
                    { title: t('说明'), dataIndex: 'note' },
                    { title: t('处理结果'), dataIndex: 'outcome', render: (v: string | null) => v ?? '—' },
                  ]}
                />
              ) : (
                <Empty description={t('核验结果不一致时，请在此记录补正情况（第八条）。')} />
              )}
            </Card>
          )}
        </Col>
        <Col xs={24} lg={8}>
          {wide && actionCard}
          <Card title={t('时间线')} size="small">
            <Timeline
              items={data.timeline.map((e) => ({
                key: e.seq,
                color: EVENT_COLOR[e.type] ?? 'blue',
                content: (
                  <div data-event={e.type}>
                    <div>
                      <strong>{eventLabel(e.type)}</strong>{' '}
                      <Typography.Text type="secondary">{fmt(e.at)}</Typography.Text>
                    </div>
                    {e.actorName && (
                      <div className="timeline-actor">
                        {e.actorName}
                        {e.actorUnit ? `（${units.name(e.actorUnit)}）` : ''}
                        {e.onBehalfOfName ? ` ${t('代')} ${e.onBehalfOfName}` : ''}
                      </div>
                    )}
                    {timelineText(e, units.name).map((l) => (
                      <div key={l} className="timeline-note">
                        {l}
                      </div>
                    ))}
                  </div>
                ),
              }))}
            />
          </Card>
        </Col>
      </Row>
      <ActionModal spec={action} onClose={() => setAction(undefined)} onDone={onDone} />
    </div>
  );
}
