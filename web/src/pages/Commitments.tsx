/**
 * 告知承诺 (seed 004): the requesting unit records a commitment signed instead of a certificate and sees its check
 * (the verification case started when the check is due, the asked unit's written answer); after a check that did
 * not confirm it, the unit decides in writing: 属实, or 不实 → a credit record (信用记录) that bars the subject.
 * The office's supervisors see every unit's. Times in Beijing time; subjects masked.
 */
import { Button, DatePicker, Form, Input, Modal, Select, Space, Table, Tag, Typography } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { useEffect, useState } from 'react';
import { subjectIdError } from '../../../domain/identifiers.ts';
import { api, currentSession, downloadFile, isMissingRoute } from '../api.ts';
import { MissingRoute, PageHeader, ProblemAlert } from '../components.tsx';
import { useCatalog } from '../data.ts';
import { EmptyHint } from '../empty-states.tsx';
import { t } from '../i18n.ts';
import { Link } from '../router.tsx';
import { fmt } from '../time.ts';

interface Commitment {
  id: string;
  requestingUnitName: string;
  issuingUnitName: string;
  catalogName: string;
  subject: string;
  promise: string;
  applicationNumber: string;
  serviceName: string;
  signedAt: string;
  recordedAt: string;
  status: string;
  statusLabel: string;
  checkDueAt: string | null;
  caseId: string | null;
  caseDocNumber: string | null;
  checkNote: string | null;
  decision: string | null;
  decisionReason: string | null;
  decidedAt: string | null;
}

interface CreditRecord {
  id: string;
  requestingUnitName: string;
  subject: string;
  catalogName: string;
  applicationNumber: string;
  reason: string;
  recordedByName: string | null;
  recordedAt: string;
  barredUntil: string;
  barred: boolean;
}

const STATUS_COLORS: Record<string, string> = {
  scheduled: 'default',
  checking: 'processing',
  awaiting_confirmation: 'warning',
  fulfilled: 'success',
  false: 'error',
};

interface RecordForm {
  kind: 'person' | 'company';
  name: string;
  idNumber: string;
  catalogCode: string;
  promise: string;
  applicationNumber: string;
  serviceName: string;
  signedAt: Dayjs;
  fields?: Record<string, string>;
}

/** The request letter's string fields of the catalog item (the check's 协查函), by their titles. */
function requestFields(schema: unknown): { name: string; title: string; required: boolean }[] {
  const s = (schema ?? {}) as { properties?: Record<string, { title?: string }>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, p]) => ({
    name,
    title: p.title ?? name,
    required: (s.required ?? []).includes(name),
  }));
}

function RecordModal({ open, onClose, onDone }: { open: boolean; onClose: () => void; onDone: () => void }) {
  const [form] = Form.useForm<RecordForm>();
  const catalog = useCatalog();
  const [error, setError] = useState<unknown>();
  const [saving, setSaving] = useState(false);
  const code = Form.useWatch('catalogCode', form);
  const kind = Form.useWatch('kind', form) ?? 'person';
  const item = catalog.items.find((c) => c.code === code);
  const submit = async (v: RecordForm) => {
    setSaving(true);
    try {
      await api.post('/api/v1/commitments', {
        subject: { kind: v.kind, name: v.name, idNumber: v.idNumber.trim().toUpperCase() },
        catalogCode: v.catalogCode,
        promise: v.promise,
        applicationNumber: v.applicationNumber,
        serviceName: v.serviceName,
        signedAt: v.signedAt.toISOString(),
        fields: v.fields ?? {},
      });
      form.resetFields();
      setError(undefined);
      onDone();
    } catch (e) {
      setError(e);
    } finally {
      setSaving(false);
    }
  };
  return (
    <Modal
      open={open}
      title={t('登记告知承诺')}
      okText={t('登记并安排核查')}
      cancelText={t('取消')}
      confirmLoading={saving}
      onCancel={onClose}
      onOk={() => form.submit()}
      destroyOnHidden
      width={640}
    >
      <ProblemAlert error={error} onClose={() => setError(undefined)} />
      <Form<RecordForm>
        form={form}
        layout="vertical"
        data-testid="commitment-form"
        initialValues={{ kind: 'person', signedAt: dayjs() }}
        onFinish={(v) => void submit(v)}
      >
        <Space wrap>
          <Form.Item name="kind" label={t('承诺人类型')}>
            <Select
              style={{ width: 120 }}
              options={[
                { value: 'person', label: t('个人') },
                { value: 'company', label: t('企业') },
              ]}
            />
          </Form.Item>
          <Form.Item
            name="name"
            label={t('姓名或名称')}
            rules={[{ required: true, message: t('请填写承诺人') }]}
          >
            <Input style={{ width: 180 }} />
          </Form.Item>
          <Form.Item
            name="idNumber"
            label={kind === 'company' ? t('统一社会信用代码') : t('公民身份号码')}
            rules={[
              {
                validator: async (_, v: string | undefined) => {
                  const why = subjectIdError(kind, (v ?? '').trim().toUpperCase());
                  if (why) throw new Error(why);
                },
              },
            ]}
          >
            <Input style={{ width: 220 }} maxLength={18} />
          </Form.Item>
        </Space>
        <Form.Item
          name="catalogCode"
          label={t('承诺替代的证明事项')}
          rules={[{ required: true, message: t('请选择证明事项') }]}
        >
          <Select
            showSearch
            optionFilterProp="label"
            options={catalog.items.map((c) => ({ value: c.code, label: c.name }))}
          />
        </Form.Item>
        <Form.Item
          name="promise"
          label={t('承诺内容')}
          rules={[{ required: true, min: 2, message: t('请填写承诺内容') }]}
        >
          <Input.TextArea rows={2} />
        </Form.Item>
        <Space wrap>
          <Form.Item
            name="applicationNumber"
            label={t('办件号')}
            rules={[{ required: true, message: t('请填写办件号') }]}
          >
            <Input style={{ width: 180 }} />
          </Form.Item>
          <Form.Item
            name="serviceName"
            label={t('申请办理的事项')}
            rules={[{ required: true, min: 2, message: t('请填写申请办理的事项') }]}
          >
            <Input style={{ width: 220 }} />
          </Form.Item>
          <Form.Item name="signedAt" label={t('签署时间')} rules={[{ required: true }]}>
            <DatePicker showTime={{ format: 'HH:mm' }} format="YYYY-MM-DD HH:mm" />
          </Form.Item>
        </Space>
        {requestFields(item?.requestSchema).map((f) => (
          <Form.Item
            key={f.name}
            name={['fields', f.name]}
            label={`${t('核查协查函')}：${f.title}`}
            rules={f.required ? [{ required: true, message: t('请填写') }] : []}
          >
            <Input />
          </Form.Item>
        ))}
      </Form>
    </Modal>
  );
}

function DecideModal({
  target,
  onClose,
  onDone,
}: {
  target: { c: Commitment; verdict: 'true' | 'false' } | undefined;
  onClose: () => void;
  onDone: () => void;
}) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>();
  const [saving, setSaving] = useState(false);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a fresh reason for each commitment decided
  useEffect(() => {
    setReason('');
    setError(undefined);
  }, [target]);
  const submit = async () => {
    if (!target) return;
    setSaving(true);
    try {
      await api.post(`/api/v1/commitments/${encodeURIComponent(target.c.id)}/confirm-${target.verdict}`, {
        reason,
      });
      onDone();
    } catch (e) {
      setError(e);
    } finally {
      setSaving(false);
    }
  };
  return (
    <Modal
      open={Boolean(target)}
      title={target?.verdict === 'false' ? t('确认承诺不实') : t('确认承诺属实')}
      okText={t('确认')}
      okButtonProps={{ danger: target?.verdict === 'false', disabled: reason.trim().length < 2 }}
      cancelText={t('取消')}
      confirmLoading={saving}
      onCancel={onClose}
      onOk={() => void submit()}
    >
      <ProblemAlert error={error} onClose={() => setError(undefined)} />
      {target?.verdict === 'false' && (
        <Typography.Paragraph type="danger">
          {t('确认不实后将记入承诺人的信用记录，限制期内不再适用告知承诺制。')}
        </Typography.Paragraph>
      )}
      <Input.TextArea
        rows={3}
        aria-label={t('书面理由')}
        placeholder={t('请书面说明理由')}
        value={reason}
        onChange={(e) => setReason(e.target.value)}
      />
    </Modal>
  );
}

export function CommitmentsPage() {
  const [items, setItems] = useState<Commitment[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [status, setStatus] = useState<string>();
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>();
  const [recording, setRecording] = useState(false);
  const [deciding, setDeciding] = useState<{ c: Commitment; verdict: 'true' | 'false' }>();
  const office = currentSession()?.staff.role === 'supervisor';

  const load = async (after?: string) => {
    setLoading(true);
    try {
      const page = await api.get<{ items: Commitment[]; nextCursor: string | null }>('/api/v1/commitments', {
        status,
        cursor: after,
        limit: 50,
      });
      setItems((prev) => (after ? [...prev, ...page.items] : page.items));
      setCursor(page.nextCursor);
      setError(undefined);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: loads again when the filter changes
  useEffect(() => {
    void load();
  }, [status]);

  if (isMissingRoute(error)) return <MissingRoute route="GET /api/v1/commitments" />;
  return (
    <div>
      <PageHeader
        title={t('告知承诺')}
        extra={
          <>
            <Select
              allowClear
              placeholder={t('全部状态')}
              style={{ width: 160 }}
              value={status}
              onChange={setStatus}
              options={Object.keys(STATUS_COLORS).map((s) => ({ value: s, label: statusText(s) }))}
            />
            {!office && (
              <Button type="primary" data-testid="record-commitment" onClick={() => setRecording(true)}>
                {t('登记告知承诺')}
              </Button>
            )}
          </>
        }
      />
      <ProblemAlert error={error} onClose={() => setError(undefined)} />
      <Table<Commitment>
        data-testid="commitments"
        rowKey="id"
        size="small"
        loading={loading}
        pagination={false}
        dataSource={items}
        scroll={{ x: 1100 }}
        locale={{
          emptyText: (
            <EmptyHint
              title={t('还没有告知承诺')}
              hint={t('申请人以书面承诺代替证明时，在此登记；系统按期发起事后核查。')}
            />
          ),
        }}
        columns={[
          { title: t('登记时间'), dataIndex: 'recordedAt', render: (v: string) => fmt(v), width: 140 },
          ...(office ? [{ title: t('登记单位'), dataIndex: 'requestingUnitName' }] : []),
          { title: t('承诺人'), dataIndex: 'subject', width: 200 },
          { title: t('证明事项'), dataIndex: 'catalogName' },
          {
            title: t('办件'),
            dataIndex: 'applicationNumber',
            render: (v: string, r) => `${r.serviceName}（${v}）`,
          },
          {
            title: t('状态'),
            dataIndex: 'status',
            render: (v: string) => <Tag color={STATUS_COLORS[v]}>{statusText(v)}</Tag>,
            width: 130,
          },
          { title: t('核查时间'), dataIndex: 'checkDueAt', render: (v: string | null) => fmt(v), width: 140 },
          {
            title: t('核查协查'),
            dataIndex: 'caseDocNumber',
            render: (v: string | null, r) =>
              r.caseId ? <Link to={`/cases/${encodeURIComponent(r.caseId)}`}>{v ?? t('查看')}</Link> : '—',
          },
          {
            title: t('被请求单位答复'),
            dataIndex: 'checkNote',
            render: (v: string | null, r) => (
              <div style={{ whiteSpace: 'pre-line', maxWidth: 320 }}>
                {v ?? '—'}
                {r.decisionReason && (
                  <div>
                    <Typography.Text type="secondary">
                      {t('结论理由')}：{r.decisionReason}（{fmt(r.decidedAt)}）
                    </Typography.Text>
                  </div>
                )}
              </div>
            ),
          },
          {
            title: t('操作'),
            key: 'actions',
            width: 190,
            render: (_: unknown, r) =>
              r.status === 'awaiting_confirmation' && !office ? (
                <Space>
                  <Button size="small" onClick={() => setDeciding({ c: r, verdict: 'true' })}>
                    {t('确认属实')}
                  </Button>
                  <Button size="small" danger onClick={() => setDeciding({ c: r, verdict: 'false' })}>
                    {t('确认不实')}
                  </Button>
                </Space>
              ) : null,
          },
        ]}
      />
      {cursor && (
        <div style={{ textAlign: 'center', marginTop: 12 }}>
          <Button loading={loading} onClick={() => void load(cursor)}>
            {t('加载更多')}
          </Button>
        </div>
      )}
      <RecordModal
        open={recording}
        onClose={() => setRecording(false)}
        onDone={() => {
          setRecording(false);
          void load();
        }}
      />
      <DecideModal
        target={deciding}
        onClose={() => setDeciding(undefined)}
        onDone={() => {
          setDeciding(undefined);
          void load();
        }}
      />
    </div>
  );
}

const STATUS_TEXT: Record<string, string> = {
  scheduled: '待核查',
  checking: '核查中',
  awaiting_confirmation: '待确认核查结论',
  fulfilled: '承诺属实',
  false: '承诺不实',
};
const statusText = (s: string): string => t(STATUS_TEXT[s] ?? s);

export function CreditRecordsPage() {
  const [items, setItems] = useState<CreditRecord[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>();
  const office = currentSession()?.staff.role === 'supervisor';
  const load = async (after?: string) => {
    setLoading(true);
    try {
      const page = await api.get<{ items: CreditRecord[]; nextCursor: string | null }>(
        '/api/v1/credit-records',
        {
          cursor: after,
          limit: 50,
        },
      );
      setItems((prev) => (after ? [...prev, ...page.items] : page.items));
      setCursor(page.nextCursor);
      setError(undefined);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: loads once
  useEffect(() => {
    void load();
  }, []);
  if (isMissingRoute(error)) return <MissingRoute route="GET /api/v1/credit-records" />;
  return (
    <div>
      <PageHeader
        title={t('信用记录')}
        extra={
          <Button
            data-testid="export-credit-records"
            onClick={() =>
              void downloadFile('/api/v1/credit-records/export.xlsx', {}, '信用记录.xlsx').catch(setError)
            }
          >
            {t('导出 Excel')}
          </Button>
        }
      />
      <ProblemAlert error={error} onClose={() => setError(undefined)} />
      <Table<CreditRecord>
        data-testid="credit-records"
        rowKey="id"
        size="small"
        loading={loading}
        pagination={false}
        dataSource={items}
        scroll={{ x: 900 }}
        locale={{
          emptyText: <EmptyHint title={t('没有信用记录')} hint={t('确认承诺不实后，记入信用记录。')} />,
        }}
        columns={[
          { title: t('记录时间'), dataIndex: 'recordedAt', render: (v: string) => fmt(v), width: 140 },
          ...(office ? [{ title: t('记录单位'), dataIndex: 'requestingUnitName' }] : []),
          { title: t('承诺人'), dataIndex: 'subject', width: 200 },
          { title: t('承诺事项'), dataIndex: 'catalogName' },
          { title: t('办件号'), dataIndex: 'applicationNumber' },
          { title: t('认定不实的理由'), dataIndex: 'reason' },
          { title: t('记录人'), dataIndex: 'recordedByName', render: (v: string | null) => v ?? '—' },
          {
            title: t('限制告知承诺至'),
            dataIndex: 'barredUntil',
            render: (v: string, r) => (
              <Space>
                {fmt(v)}
                <Tag color={r.barred ? 'red' : 'default'}>{r.barred ? t('限制中') : t('已到期')}</Tag>
              </Space>
            ),
          },
        ]}
      />
      {cursor && (
        <div style={{ textAlign: 'center', marginTop: 12 }}>
          <Button loading={loading} onClick={() => void load(cursor)}>
            {t('加载更多')}
          </Button>
        </div>
      )}
    </div>
  );
}
