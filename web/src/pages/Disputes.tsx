/**
 * Responsibility disputes (职责争议, Art. 7/11). `DisputePanel` on the case page: the dispute's state, and for the
 * issuing unit holding the case 提出职责争议 (reason, the unit it believes responsible, a confirmation).
 * `DisputesPage` (/disputes) for the joint-meeting office: the disputes, their deadline, 裁定 (re-route to a named
 * unit, or order the unit to answer; a confirmation), and the Art. 13 counts per unit for the current month.
 */
import { App, Button, Card, Form, Input, Modal, Radio, Select, Space, Table, Tag, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { api, currentSession } from '../api.ts';
import { PageHeader, ProblemAlert } from '../components.tsx';
import { useApi, useUnits } from '../data.ts';
import { t } from '../i18n.ts';
import { Link } from '../router.tsx';
import { fmt } from '../time.ts';

export interface DisputeView {
  id: string;
  caseId: string;
  docNumber: string;
  catalogName: string | null;
  caseStatus: string;
  requestingUnit: string;
  unitCode: string;
  status: 'open' | 'overdue' | 'rerouted' | 'must_answer';
  statusLabel: string;
  reason: string;
  suggestedUnit: string | null;
  filedByName: string;
  filedAt: string;
  dueAt: string | null;
  overdueAt: string | null;
  outcome: string | null;
  targetUnit: string | null;
  decisionReason: string | null;
  decidedByName: string | null;
  decidedAt: string | null;
  decidedLate: boolean | null;
}

const STATUS_COLOR: Record<string, string> = {
  open: 'processing',
  overdue: 'error',
  rerouted: 'success',
  must_answer: 'warning',
};

export const DisputeStatusTag = ({ d }: { d: DisputeView }) => (
  <Tag color={STATUS_COLOR[d.status]} data-testid="dispute-status">
    {t(d.statusLabel)}
  </Tag>
);

/** The case page's part: the latest dispute, and filing one (the issuing unit holding the case). */
export function DisputePanel({
  c,
  canFile,
  onChanged,
}: {
  c: { id: string; issuingUnit: string; requestingUnit: string };
  canFile: boolean;
  onChanged: () => void;
}) {
  const units = useUnits();
  const { modal, message } = App.useApp();
  const role = currentSession()?.staff.role;
  const visible = role === 'agent' || role === 'liaison' || role === 'supervisor';
  const list = useApi<{ items: DisputeView[] }>(visible ? '/api/v1/disputes' : undefined, { caseId: c.id });
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<unknown>();
  const [form] = Form.useForm<{ reason: string; suggestedUnit?: string }>();
  const latest = list.data?.items[0];
  const undecided = latest && (latest.status === 'open' || latest.status === 'overdue');
  // The workflow works out the office's deadline just after the filing: read again until it is there.
  const pending = Boolean(latest && undecided && !latest.dueAt);
  const { reload } = list;
  useEffect(() => {
    if (!pending) return;
    const timer = setInterval(() => void reload(true), 1500);
    return () => clearInterval(timer);
  }, [pending, reload]);

  const submit = async () => {
    const v = await form.validateFields();
    modal.confirm({
      title: t('确认提出职责争议？'),
      content: (
        <div>
          <p>{t('提请联席会议办公室裁定：本案不属于本单位职责。裁定前本案办理时限照常计算。')}</p>
          <p>
            {t('理由')}：{v.reason}
          </p>
          {v.suggestedUnit && (
            <p>
              {t('建议的出具单位')}：{units.name(v.suggestedUnit)}
            </p>
          )}
        </div>
      ),
      okText: t('提出争议'),
      cancelText: t('取消'),
      onOk: async () => {
        try {
          setError(undefined);
          await api.post('/api/v1/disputes', { caseId: c.id, ...v });
          void message.success(t('已提出职责争议，等待联席会议办公室裁定'));
          setOpen(false);
          form.resetFields();
          await list.reload(true);
          onChanged();
        } catch (e) {
          setError(e);
        }
      },
    });
  };

  if (!latest && !canFile) return null;
  return (
    <Card size="small" title={t('职责争议')} style={{ marginBottom: 16 }} data-testid="dispute-panel">
      {latest && (
        <Space direction="vertical" size={2} style={{ width: '100%' }}>
          <Space wrap>
            <DisputeStatusTag d={latest} />
            <Typography.Text type="secondary">
              {units.name(latest.unitCode)} · {latest.filedByName} · {fmt(latest.filedAt)}
            </Typography.Text>
          </Space>
          <Typography.Text>
            {t('理由')}：{latest.reason}
          </Typography.Text>
          {undecided && latest.dueAt && (
            <Typography.Text type={latest.status === 'overdue' ? 'danger' : 'secondary'}>
              {t('裁定时限')}：{fmt(latest.dueAt)}
            </Typography.Text>
          )}
          {latest.decidedAt && (
            <Typography.Text>
              {t('裁定')}：
              {latest.outcome === 'reroute'
                ? t('改派至{unit}', { unit: units.name(latest.targetUnit) })
                : t('由本单位办理')}
              （{latest.decisionReason}，{latest.decidedByName}，{fmt(latest.decidedAt)}）
            </Typography.Text>
          )}
        </Space>
      )}
      {canFile && !undecided && (
        <Button
          data-testid="dispute-file"
          onClick={() => setOpen(true)}
          style={{ marginTop: latest ? 8 : 0 }}
        >
          {t('提出职责争议')}
        </Button>
      )}
      <Modal
        open={open}
        title={t('提出职责争议')}
        okText={t('提交')}
        cancelText={t('取消')}
        onOk={() => void submit().catch(() => {})}
        onCancel={() => setOpen(false)}
        destroyOnHidden
      >
        <ProblemAlert error={error} onClose={() => setError(undefined)} />
        <Typography.Paragraph type="secondary">
          {t('认为本协查事项不属于本单位职责时，提请联席会议办公室裁定，不必先作答复。')}
        </Typography.Paragraph>
        <Form form={form} layout="vertical">
          <Form.Item
            name="reason"
            label={t('争议理由')}
            rules={[{ required: true, whitespace: true, min: 2, message: t('请填写争议理由') }]}
          >
            <Input.TextArea rows={3} maxLength={1000} />
          </Form.Item>
          <Form.Item name="suggestedUnit" label={t('建议的出具单位')}>
            <Select
              allowClear
              placeholder={t('请选择')}
              options={units.units
                .filter((u) => u.canIssue && u.code !== c.issuingUnit && u.code !== c.requestingUnit)
                .map((u) => ({ value: u.code, label: u.name }))}
            />
          </Form.Item>
        </Form>
      </Modal>
    </Card>
  );
}

interface DisputeStatsRow {
  unit: string;
  unitName: string;
  filed: number;
  upheld: number;
  rejected: number;
  open: number;
  overdue: number;
  decidedLate: number;
}

/** The office's page: every dispute, deciding, and the month's counts per unit. */
export function DisputesPage() {
  const units = useUnits();
  const { modal, message } = App.useApp();
  const [status, setStatus] = useState<string>('undecided');
  const list = useApi<{ items: DisputeView[] }>('/api/v1/disputes', status === 'all' ? {} : { status });
  const stats = useApi<{ period: { from: string; to: string }; units: DisputeStatsRow[] }>(
    '/api/v1/stats/disputes',
  );
  const [deciding, setDeciding] = useState<DisputeView>();
  const [error, setError] = useState<unknown>();
  const [form] = Form.useForm<{ outcome: 'reroute' | 'must_answer'; targetUnit?: string; reason: string }>();
  const outcome = Form.useWatch('outcome', form);

  const decide = async () => {
    const d = deciding;
    if (!d) return;
    const v = await form.validateFields();
    const what =
      v.outcome === 'reroute'
        ? t('改派至{unit}', { unit: units.name(v.targetUnit) })
        : t('责成{unit}办理', { unit: units.name(d.unitCode) });
    modal.confirm({
      title: t('确认裁定？'),
      content: (
        <div>
          <p>
            {d.docNumber}：{what}
          </p>
          <p>
            {t('裁定理由')}：{v.reason}
          </p>
        </div>
      ),
      okText: t('裁定'),
      cancelText: t('取消'),
      onOk: async () => {
        try {
          setError(undefined);
          await api.post(`/api/v1/disputes/${encodeURIComponent(d.id)}/decide`, v);
          void message.success(t('已裁定'));
          setDeciding(undefined);
          form.resetFields();
          await Promise.all([list.reload(true), stats.reload(true)]);
        } catch (e) {
          setError(e);
        }
      },
    });
  };

  return (
    <div data-testid="disputes-page">
      <PageHeader title={t('职责争议')} />
      <ProblemAlert error={list.error} />
      <Space style={{ marginBottom: 12 }}>
        <Radio.Group
          value={status}
          onChange={(e) => setStatus(e.target.value)}
          optionType="button"
          options={[
            { value: 'undecided', label: t('待裁定') },
            { value: 'overdue', label: t('逾期未裁定') },
            { value: 'all', label: t('全部') },
          ]}
        />
      </Space>
      <Table<DisputeView>
        rowKey="id"
        size="small"
        loading={list.loading}
        dataSource={list.data?.items ?? []}
        pagination={false}
        locale={{ emptyText: t('暂无职责争议') }}
        scroll={{ x: 'max-content' }}
        columns={[
          {
            title: t('文号'),
            dataIndex: 'docNumber',
            render: (v: string, d) => <Link to={`/cases/${encodeURIComponent(d.caseId)}`}>{v}</Link>,
          },
          { title: t('事项'), dataIndex: 'catalogName' },
          { title: t('提出单位'), dataIndex: 'unitCode', render: (v: string) => units.name(v) },
          { title: t('争议理由'), dataIndex: 'reason', width: 260 },
          {
            title: t('建议的出具单位'),
            dataIndex: 'suggestedUnit',
            render: (v: string | null) => (v ? units.name(v) : '—'),
          },
          { title: t('提出时间'), dataIndex: 'filedAt', render: (v: string) => fmt(v) },
          {
            title: t('裁定时限'),
            dataIndex: 'dueAt',
            render: (v: string | null, d) => (
              <Space size={4}>
                {fmt(v)}
                {d.overdueAt && <Tag color="error">{t('逾期')}</Tag>}
              </Space>
            ),
          },
          { title: t('状态'), dataIndex: 'status', render: (_: string, d) => <DisputeStatusTag d={d} /> },
          {
            title: t('裁定'),
            key: 'decision',
            render: (_: unknown, d) =>
              d.decidedAt ? (
                <span>
                  {d.outcome === 'reroute'
                    ? t('改派至{unit}', { unit: units.name(d.targetUnit) })
                    : t('责成办理')}
                  （{d.decidedByName}，{fmt(d.decidedAt)}）
                </span>
              ) : (
                <Button
                  size="small"
                  type="primary"
                  data-testid={`dispute-decide-${d.docNumber}`}
                  onClick={() => {
                    form.resetFields();
                    form.setFieldsValue({
                      outcome: 'reroute',
                      ...(d.suggestedUnit ? { targetUnit: d.suggestedUnit } : {}),
                    });
                    setDeciding(d);
                  }}
                >
                  {t('裁定')}
                </Button>
              ),
          },
        ]}
      />
      <Card
        size="small"
        title={t('职责争议统计（本月）')}
        style={{ marginTop: 16 }}
        data-testid="dispute-stats"
      >
        <Table<DisputeStatsRow>
          rowKey="unit"
          size="small"
          pagination={false}
          dataSource={stats.data?.units ?? []}
          locale={{ emptyText: t('本月暂无职责争议') }}
          columns={[
            { title: t('出具单位'), dataIndex: 'unitName' },
            { title: t('提出'), dataIndex: 'filed' },
            { title: t('成立（改派）'), dataIndex: 'upheld' },
            { title: t('不成立（责成办理）'), dataIndex: 'rejected' },
            { title: t('待裁定'), dataIndex: 'open' },
            { title: t('逾期未裁定'), dataIndex: 'overdue' },
          ]}
        />
      </Card>
      <Modal
        open={Boolean(deciding)}
        title={t('裁定职责争议')}
        okText={t('裁定')}
        cancelText={t('取消')}
        onOk={() => void decide().catch(() => {})}
        onCancel={() => setDeciding(undefined)}
      >
        <ProblemAlert error={error} onClose={() => setError(undefined)} />
        {deciding && (
          <Typography.Paragraph type="secondary">
            {deciding.docNumber} · {units.name(deciding.unitCode)}：{deciding.reason}
          </Typography.Paragraph>
        )}
        <Form form={form} layout="vertical">
          <Form.Item name="outcome" label={t('裁定结果')} rules={[{ required: true, message: t('请选择') }]}>
            <Radio.Group
              options={[
                { value: 'reroute', label: t('争议成立，改派至其他出具单位') },
                { value: 'must_answer', label: t('争议不成立，责成提出单位办理') },
              ]}
            />
          </Form.Item>
          {outcome === 'reroute' && (
            <Form.Item
              name="targetUnit"
              label={t('承办的出具单位')}
              rules={[{ required: true, message: t('请选择出具单位') }]}
            >
              <Select
                placeholder={t('请选择')}
                options={units.units
                  .filter(
                    (u) => u.canIssue && u.code !== deciding?.unitCode && u.code !== deciding?.requestingUnit,
                  )
                  .map((u) => ({ value: u.code, label: u.name }))}
              />
            </Form.Item>
          )}
          <Form.Item
            name="reason"
            label={t('裁定理由')}
            rules={[{ required: true, whitespace: true, min: 2, message: t('请填写裁定理由') }]}
          >
            <Input.TextArea rows={3} maxLength={1000} />
          </Form.Item>
        </Form>
      </Modal>
    </div>
  );
}

export default DisputesPage;
