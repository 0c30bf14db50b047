/**
 * Complaints (投诉, Zibo attachment 4). The joint-meeting office accepts complaints (channel, 12345 ticket
 * number, complainant, the unit complained about), assigns the handling unit and approves or denies extension
 * requests; the handling unit sees its complaints, answers them, or asks once for an extension (≤ 5 working
 * days). Deadlines in Beijing time; lists mask the complainant's phone (the server does).
 */
import {
  Alert,
  Button,
  Form,
  Input,
  InputNumber,
  Modal,
  Select,
  Space,
  Switch,
  Table,
  Tag,
  Typography,
} from 'antd';
import { useCallback, useEffect, useState } from 'react';
import { api, currentSession, isMissingRoute, newIdempotencyKey } from '../api.ts';
import { MissingRoute, PageHeader, ProblemAlert } from '../components.tsx';
import { useUnits } from '../data.ts';
import { t } from '../i18n.ts';
import { fmtCn } from '../time.ts';

interface Person {
  id: string;
  name: string;
}
export interface Complaint {
  id: string;
  status: 'accepted' | 'assigned' | 'answered';
  statusLabel: string;
  unitCode: string;
  unitName: string;
  handlingUnit: string | null;
  assignee: Person | null;
  channel: string;
  channelLabel: string;
  ticketNo: string | null;
  relatedDocNumber: string | null;
  complainantName: string;
  complainantPhone: string;
  content: string;
  acceptedAt: string;
  acceptedBy: Person;
  dueAt: string;
  originalDueAt: string;
  extension: {
    days: number;
    reason: string;
    status: 'pending' | 'approved' | 'denied';
    requestedBy: Person;
    note: string | null;
  } | null;
  extensionUsed: boolean;
  escalated: boolean;
  overdue: boolean;
  answeredAt: string | null;
  answer: string | null;
  answeredOnTime: boolean | null;
}

const CHANNELS: { value: string; label: string }[] = [
  { value: 'hotline_12345', label: '12345 政务服务热线' },
  { value: 'window', label: '监督服务专窗' },
  { value: 'online', label: '网上投诉' },
  { value: 'letter', label: '信函、传真、邮件' },
  { value: 'platform', label: '证明事项投诉举报平台' },
  { value: 'other', label: '其他' },
];
const STATUS_COLORS: Record<string, string> = {
  accepted: 'default',
  assigned: 'processing',
  answered: 'success',
};
const EXTENSION_LABELS: Record<string, string> = {
  pending: '延期待审批',
  approved: '已批准延期',
  denied: '延期未获批准',
};

type Dialog =
  | { kind: 'accept' }
  | { kind: 'assign'; c: Complaint }
  | { kind: 'answer'; c: Complaint }
  | { kind: 'extension'; c: Complaint }
  | { kind: 'decide'; c: Complaint; approve: boolean };

export function ComplaintsPage() {
  const session = currentSession();
  const office = session?.staff.unitKind === 'office' && session.staff.role === 'supervisor';
  const units = useUnits();
  const [items, setItems] = useState<Complaint[]>([]);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>();
  const [missing, setMissing] = useState(false);
  const [filters, setFilters] = useState<{ status?: string; overdue?: boolean; extensionPending?: boolean }>(
    {},
  );
  const [dialog, setDialog] = useState<Dialog>();
  const [busy, setBusy] = useState(false);
  const [dialogError, setDialogError] = useState<unknown>();
  const [form] = Form.useForm();

  const load = useCallback(async () => {
    setLoading(true);
    try {
      const page = await api.get<{ items: Complaint[] }>('/api/v1/complaints', {
        status: filters.status,
        overdue: filters.overdue ? 'true' : undefined,
        extensionPending: filters.extensionPending ? 'true' : undefined,
        limit: '200',
      });
      setItems(page.items);
      setError(undefined);
    } catch (e) {
      if (isMissingRoute(e)) setMissing(true);
      else setError(e);
    } finally {
      setLoading(false);
    }
  }, [filters]);
  useEffect(() => {
    void load();
  }, [load]);

  const open = (d: Dialog) => {
    form.resetFields();
    setDialogError(undefined);
    if (d.kind === 'assign') form.setFieldsValue({ unitCode: d.c.handlingUnit ?? d.c.unitCode });
    if (d.kind === 'accept') form.setFieldsValue({ channel: 'hotline_12345' });
    setDialog(d);
  };

  const submit = async () => {
    if (!dialog) return;
    const v = await form.validateFields();
    setBusy(true);
    try {
      const key = newIdempotencyKey();
      const url = (c: Complaint, tail: string) => `/api/v1/complaints/${encodeURIComponent(c.id)}/${tail}`;
      if (dialog.kind === 'accept')
        await api.post(
          '/api/v1/complaints',
          {
            unitCode: v.unitCode,
            channel: v.channel,
            ...(v.ticketNo ? { ticketNo: v.ticketNo } : {}),
            ...(v.relatedCase ? { relatedCase: v.relatedCase } : {}),
            complainant: { name: v.name, phone: v.phone },
            content: v.content,
          },
          key,
        );
      else if (dialog.kind === 'assign')
        await api.post(
          url(dialog.c, 'assign'),
          { unitCode: v.unitCode, ...(v.note ? { note: v.note } : {}) },
          key,
        );
      else if (dialog.kind === 'answer') await api.post(url(dialog.c, 'answer'), { text: v.text }, key);
      else if (dialog.kind === 'extension')
        await api.post(url(dialog.c, 'extension'), { days: v.days, reason: v.reason }, key);
      else
        await api.post(
          url(dialog.c, dialog.approve ? 'extension/approve' : 'extension/deny'),
          v.note ? { note: v.note } : {},
          key,
        );
      setDialog(undefined);
      await load();
    } catch (e) {
      setDialogError(e);
    } finally {
      setBusy(false);
    }
  };

  if (missing) return <MissingRoute route="/api/v1/complaints" />;

  const actions = (c: Complaint) => {
    if (c.status === 'answered') return null;
    if (office)
      return (
        <Space wrap size={4}>
          <Button size="small" data-testid={`assign-${c.id}`} onClick={() => open({ kind: 'assign', c })}>
            {c.handlingUnit ? t('改派') : t('指派')}
          </Button>
          {c.extension?.status === 'pending' && (
            <>
              <Button
                size="small"
                type="primary"
                data-testid={`approve-${c.id}`}
                onClick={() => open({ kind: 'decide', c, approve: true })}
              >
                {t('批准延期')}
              </Button>
              <Button size="small" danger onClick={() => open({ kind: 'decide', c, approve: false })}>
                {t('不予延期')}
              </Button>
            </>
          )}
        </Space>
      );
    return (
      <Space wrap size={4}>
        <Button
          size="small"
          type="primary"
          data-testid={`answer-${c.id}`}
          onClick={() => open({ kind: 'answer', c })}
        >
          {t('办结答复')}
        </Button>
        {!c.extensionUsed && c.extension?.status !== 'pending' && !c.overdue && (
          <Button size="small" data-testid={`extend-${c.id}`} onClick={() => open({ kind: 'extension', c })}>
            {t('申请延期')}
          </Button>
        )}
      </Space>
    );
  };

  const titles: Record<Dialog['kind'], string> = {
    accept: t('受理投诉'),
    assign: t('指派承办单位'),
    answer: t('办结答复'),
    extension: t('申请延期（仅限一次，最长 5 个工作日）'),
    decide: dialog?.kind === 'decide' && !dialog.approve ? t('不予延期') : t('批准延期'),
  };

  return (
    <div data-testid="complaints-page">
      <PageHeader
        title={office ? t('投诉受理与督办') : t('本单位投诉')}
        extra={
          office && (
            <Button type="primary" data-testid="complaint-new" onClick={() => open({ kind: 'accept' })}>
              {t('受理投诉')}
            </Button>
          )
        }
      />
      <Typography.Paragraph type="secondary">
        {t(
          '投诉须自受理之日起 5 个工作日内办结答复；情况复杂的可申请延期一次，最长不超过 5 个工作日，经联席会议办公室批准。逾期未办结的报联席会议办公室督办。',
        )}
      </Typography.Paragraph>
      <Space wrap style={{ marginBottom: 12 }}>
        <Select
          allowClear
          placeholder={t('状态')}
          style={{ width: 140 }}
          value={filters.status}
          onChange={(status) => setFilters({ ...filters, status })}
          options={[
            { value: 'accepted', label: t('已受理') },
            { value: 'assigned', label: t('已指派') },
            { value: 'answered', label: t('已办结答复') },
          ]}
        />
        <Space size={4}>
          <Switch
            size="small"
            checked={Boolean(filters.overdue)}
            onChange={(overdue) => setFilters({ ...filters, overdue })}
          />
          {t('只看逾期')}
        </Space>
        {office && (
          <Space size={4}>
            <Switch
              size="small"
              checked={Boolean(filters.extensionPending)}
              onChange={(extensionPending) => setFilters({ ...filters, extensionPending })}
            />
            {t('只看延期待审批')}
          </Space>
        )}
      </Space>
      {error !== undefined && <ProblemAlert error={error} />}
      <Table<Complaint>
        rowKey="id"
        size="middle"
        loading={loading}
        dataSource={items}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        scroll={{ x: 900 }}
        expandable={{
          expandedRowRender: (c) => (
            <div data-testid={`complaint-detail-${c.id}`}>
              <Typography.Paragraph>
                <b>{t('投诉内容')}：</b>
                {c.content}
              </Typography.Paragraph>
              {c.relatedDocNumber && (
                <Typography.Paragraph>
                  <b>{t('相关协查')}：</b>
                  {c.relatedDocNumber}
                </Typography.Paragraph>
              )}
              {c.extension && (
                <Typography.Paragraph>
                  <b>{t('延期申请')}：</b>
                  {t('{days} 个工作日', { days: c.extension.days })}，{c.extension.reason}（
                  {c.extension.requestedBy.name}）
                  {c.extension.note ? ` · ${t('审批意见')}：${c.extension.note}` : ''}
                </Typography.Paragraph>
              )}
              {c.answer && (
                <Typography.Paragraph>
                  <b>{t('办理结果')}：</b>
                  {c.answer}（{fmtCn(c.answeredAt)}）
                </Typography.Paragraph>
              )}
            </div>
          ),
        }}
        columns={[
          { title: t('受理时间'), dataIndex: 'acceptedAt', render: (v: string) => fmtCn(v), width: 170 },
          {
            title: t('渠道 / 工单号'),
            render: (_: unknown, c) => (
              <span>
                {t(c.channelLabel)}
                {c.ticketNo && (
                  <>
                    <br />
                    <Typography.Text type="secondary">{c.ticketNo}</Typography.Text>
                  </>
                )}
              </span>
            ),
          },
          {
            title: t('投诉人'),
            render: (_: unknown, c) => (
              <span>
                {c.complainantName}
                <br />
                <Typography.Text type="secondary">{c.complainantPhone}</Typography.Text>
              </span>
            ),
          },
          { title: t('被投诉单位'), dataIndex: 'unitName' },
          {
            title: t('承办单位'),
            render: (_: unknown, c) =>
              c.handlingUnit
                ? `${units.name(c.handlingUnit)}${c.assignee ? ` · ${c.assignee.name}` : ''}`
                : '—',
          },
          {
            title: t('状态'),
            render: (_: unknown, c) => (
              <Space wrap size={4}>
                <Tag color={STATUS_COLORS[c.status]} data-testid={`status-${c.id}`}>
                  {t(c.statusLabel)}
                </Tag>
                {c.escalated && <Tag color="red">{t('已报督办')}</Tag>}
                {c.overdue && !c.escalated && <Tag color="orange">{t('逾期')}</Tag>}
                {c.answeredOnTime === true && <Tag color="green">{t('按期办结')}</Tag>}
                {c.extension && (
                  <Tag
                    color={
                      c.extension.status === 'approved'
                        ? 'blue'
                        : c.extension.status === 'pending'
                          ? 'gold'
                          : 'default'
                    }
                  >
                    {t(EXTENSION_LABELS[c.extension.status] ?? c.extension.status)}
                  </Tag>
                )}
              </Space>
            ),
          },
          {
            title: t('办结期限'),
            render: (_: unknown, c) => (
              <span data-testid={`due-${c.id}`}>
                {fmtCn(c.dueAt)}
                {c.dueAt !== c.originalDueAt && (
                  <>
                    <br />
                    <Typography.Text type="secondary">
                      {t('原期限')} {fmtCn(c.originalDueAt)}
                    </Typography.Text>
                  </>
                )}
              </span>
            ),
          },
          { title: t('操作'), render: (_: unknown, c) => actions(c) },
        ]}
      />
      <Modal
        open={dialog !== undefined}
        title={dialog ? titles[dialog.kind] : ''}
        okText={t('提交')}
        cancelText={t('取消')}
        confirmLoading={busy}
        onOk={() => void submit()}
        onCancel={() => setDialog(undefined)}
        destroyOnHidden
      >
        {dialogError !== undefined && (
          <ProblemAlert error={dialogError} onClose={() => setDialogError(undefined)} />
        )}
        <Form form={form} layout="vertical" data-testid="complaint-form">
          {dialog?.kind === 'accept' && (
            <>
              <Form.Item
                name="unitCode"
                label={t('被投诉单位')}
                rules={[{ required: true, message: t('请选择被投诉单位') }]}
              >
                <Select
                  showSearch
                  optionFilterProp="label"
                  data-testid="complaint-unit"
                  options={units.units
                    .filter((u) => u.kind !== 'office')
                    .map((u) => ({ value: u.code, label: u.name }))}
                />
              </Form.Item>
              <Form.Item name="channel" label={t('投诉渠道')} rules={[{ required: true }]}>
                <Select options={CHANNELS.map((c) => ({ value: c.value, label: t(c.label) }))} />
              </Form.Item>
              <Form.Item name="ticketNo" label={t('工单号（12345 热线必填）')}>
                <Input maxLength={64} data-testid="complaint-ticket" />
              </Form.Item>
              <Form.Item name="relatedCase" label={t('相关协查（文号，可不填）')}>
                <Input maxLength={160} />
              </Form.Item>
              <Space wrap>
                <Form.Item
                  name="name"
                  label={t('投诉人姓名')}
                  rules={[{ required: true, message: t('请填写投诉人姓名') }]}
                >
                  <Input maxLength={50} data-testid="complaint-name" />
                </Form.Item>
                <Form.Item
                  name="phone"
                  label={t('联系电话')}
                  rules={[
                    { required: true, pattern: /^[0-9+\- ]{5,20}$/, message: t('请填写有效的联系电话') },
                  ]}
                >
                  <Input maxLength={20} data-testid="complaint-phone" />
                </Form.Item>
              </Space>
              <Form.Item
                name="content"
                label={t('投诉内容')}
                rules={[{ required: true, min: 5, message: t('请填写投诉内容（至少 5 个字）') }]}
              >
                <Input.TextArea rows={3} maxLength={4000} data-testid="complaint-content" />
              </Form.Item>
            </>
          )}
          {dialog?.kind === 'assign' && (
            <>
              <Form.Item name="unitCode" label={t('承办单位')} rules={[{ required: true }]}>
                <Select
                  showSearch
                  optionFilterProp="label"
                  options={units.units
                    .filter((u) => u.kind !== 'office')
                    .map((u) => ({ value: u.code, label: u.name }))}
                />
              </Form.Item>
              <Form.Item name="note" label={t('指派说明')}>
                <Input.TextArea rows={2} maxLength={500} />
              </Form.Item>
            </>
          )}
          {dialog?.kind === 'answer' && (
            <Form.Item
              name="text"
              label={t('办理结果（含告知投诉人的情况）')}
              rules={[{ required: true, min: 2, message: t('请填写办理结果') }]}
            >
              <Input.TextArea rows={4} maxLength={4000} data-testid="complaint-answer" />
            </Form.Item>
          )}
          {dialog?.kind === 'extension' && (
            <>
              <Alert
                type="info"
                showIcon
                style={{ marginBottom: 12 }}
                message={t('当前办结期限：{due}', { due: fmtCn(dialog.c.dueAt) })}
              />
              <Form.Item
                name="days"
                label={t('延期工作日数')}
                rules={[{ required: true, message: t('请填写延期天数') }]}
              >
                <InputNumber min={1} max={5} precision={0} data-testid="complaint-days" />
              </Form.Item>
              <Form.Item
                name="reason"
                label={t('延期理由')}
                rules={[{ required: true, min: 2, message: t('请说明延期理由') }]}
              >
                <Input.TextArea rows={3} maxLength={1000} data-testid="complaint-reason" />
              </Form.Item>
            </>
          )}
          {dialog?.kind === 'decide' && (
            <>
              {dialog.c.extension && (
                <Typography.Paragraph>
                  {t('申请延期 {days} 个工作日', { days: dialog.c.extension.days })}：
                  {dialog.c.extension.reason}
                </Typography.Paragraph>
              )}
              <Form.Item
                name="note"
                label={dialog.approve ? t('审批意见') : t('不予延期的理由')}
                rules={dialog.approve ? [] : [{ required: true, min: 2, message: t('请说明理由') }]}
              >
                <Input.TextArea rows={2} maxLength={500} data-testid="complaint-note" />
              </Form.Item>
            </>
          )}
        </Form>
      </Modal>
    </div>
  );
}

export default ComplaintsPage;
