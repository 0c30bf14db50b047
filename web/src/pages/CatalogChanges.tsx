/**
 * List adjustment (清单调整, Zibo attachment 3, Art. 9): a unit's liaison records the cause of an adjustment and
 * the unit files its written request within 7 working days; the joint-meeting office decides (通过 publishes a
 * new catalog version, 不予通过 needs a reason). Deadlines in Beijing time; late and overdue flags shown. The
 * current list exports as XLSX.
 */
import { App as AntApp, Button, Form, Input, Modal, Radio, Select, Space, Table, Tag } from 'antd';
import { useCallback, useEffect, useState } from 'react';
import { api, currentSession, downloadFile } from '../api.ts';
import { PageHeader, ProblemAlert } from '../components.tsx';
import { useCatalog } from '../data.ts';
import { t } from '../i18n.ts';
import { fmt } from '../time.ts';

interface Change {
  id: string;
  unitCode: string;
  unitName: string;
  causeKind: string;
  causeKindLabel: string;
  causeDate: string;
  causeDescription: string;
  itemCode: string | null;
  status: string;
  statusLabel: string;
  filingDueAt: string;
  filingOverdueAt: string | null;
  filedLate: boolean;
  changeType: string | null;
  changeTypeLabel: string | null;
  request: { basis?: string; item?: { name?: string } | null } | null;
  filedAt: string | null;
  decisionDueAt: string | null;
  decisionOverdueAt: string | null;
  decidedAt: string | null;
  decisionReason: string | null;
  publishedVersion: number | null;
}

const CAUSES: [string, string][] = [
  ['law', '法律法规颁布、修订或废止'],
  ['delegation', '上级下放权力事项'],
  ['function', '职能调整'],
  ['omission', '清单遗漏'],
  ['government', '政府决定取消事项'],
  ['other', '其他情形'],
];
const STATUS_COLORS: Record<string, string> = {
  awaiting_filing: 'orange',
  filed: 'blue',
  approved: 'green',
  rejected: 'red',
};
const today = () => new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);

export default function CatalogChangesPage() {
  const { message } = AntApp.useApp();
  const session = currentSession();
  const role = session?.staff.role;
  const office = role === 'supervisor' || role === 'admin';
  const catalog = useCatalog();
  const [items, setItems] = useState<Change[]>([]);
  const [error, setError] = useState<unknown>();
  const [causeOpen, setCauseOpen] = useState(false);
  const [filing, setFiling] = useState<Change>();
  const [rejecting, setRejecting] = useState<Change>();
  const [busy, setBusy] = useState(false);
  const [causeForm] = Form.useForm();
  const [fileForm] = Form.useForm();
  const [rejectForm] = Form.useForm();

  const load = useCallback(async () => {
    try {
      setItems((await api.get<{ items: Change[] }>('/api/v1/catalog-changes')).items);
      setError(undefined);
    } catch (e) {
      setError(e);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const act = async (fn: () => Promise<unknown>, done: string) => {
    setBusy(true);
    try {
      await fn();
      void message.success(done);
      setError(undefined);
      await load();
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };

  const recordCause = async () => {
    const v = await causeForm.validateFields();
    const ok = await act(
      () => api.post('/api/v1/catalog-changes', { ...v, itemCode: v.itemCode || null }),
      t('已登记调整事由'),
    );
    if (ok) {
      setCauseOpen(false);
      causeForm.resetFields();
    }
  };

  const fileRequest = async () => {
    if (!filing) return;
    const v = await fileForm.validateFields();
    const current = catalog.items.find((i) => i.code === v.itemCode);
    const item =
      v.changeType === 'remove' || !current
        ? undefined
        : {
            name: v.name,
            serviceItemName: current.serviceItemName,
            legalBasis: v.legalBasis,
            issuingUnitCodes: current.issuingUnits.map((u) => u.code),
            defaultTier: current.defaultTier,
            exemptionMethod: v.exemptionMethod,
            requestSchema: current.requestSchema,
            responseSchema: current.responseSchema,
          };
    const ok = await act(
      () =>
        api.post(`/api/v1/catalog-changes/${filing.id}/file`, {
          changeType: v.changeType,
          itemCode: v.itemCode,
          basis: v.basis,
          ...(item ? { item } : {}),
        }),
      t('已提交书面申请'),
    );
    if (ok) setFiling(undefined);
  };

  const decide = (c: Change, approve: boolean, reason?: string) =>
    act(
      () => api.post(`/api/v1/catalog-changes/${c.id}/decide`, { approve, ...(reason ? { reason } : {}) }),
      approve ? t('已审核通过，清单已发布新版本') : t('已退回，不予通过'),
    );

  const flags = (c: Change) => (
    <Space size={4} wrap>
      {c.filingOverdueAt && c.status === 'awaiting_filing' ? <Tag color="red">{t('逾期未申报')}</Tag> : null}
      {c.filedLate ? <Tag color="volcano">{t('逾期申报')}</Tag> : null}
      {c.decisionOverdueAt && c.status === 'filed' ? <Tag color="red">{t('审核逾期')}</Tag> : null}
    </Space>
  );

  return (
    <div data-testid="catalog-changes-page">
      <PageHeader
        title={t('清单调整')}
        extra={
          <Space>
            {role === 'liaison' ? (
              <Button type="primary" onClick={() => setCauseOpen(true)} data-testid="record-cause">
                {t('登记调整事由')}
              </Button>
            ) : null}
            <Button
              onClick={() =>
                void downloadFile('/api/v1/catalog/export.xlsx', {}, 'catalog.xlsx').catch((e) => setError(e))
              }
            >
              {t('导出清单')}
            </Button>
          </Space>
        }
      />
      <p style={{ color: '#666' }}>
        {t('调整事由发生之日起 7 个工作日内须向市联席会议办公室提出书面申请（第九条）；时间均为北京时间。')}
      </p>
      {error ? <ProblemAlert error={error} /> : null}
      <Table<Change>
        rowKey="id"
        dataSource={items}
        pagination={false}
        scroll={{ x: 900 }}
        columns={[
          ...(office ? [{ title: t('申请单位'), dataIndex: 'unitName' }] : []),
          {
            title: t('调整事由'),
            render: (_: unknown, c: Change) => (
              <span>
                {c.causeKindLabel}
                <br />
                <small>{c.causeDescription}</small>
              </span>
            ),
          },
          { title: t('事由发生日'), dataIndex: 'causeDate' },
          {
            title: t('状态'),
            render: (_: unknown, c: Change) => (
              <Space direction="vertical" size={2}>
                <Tag color={STATUS_COLORS[c.status]}>{c.statusLabel}</Tag>
                {flags(c)}
              </Space>
            ),
          },
          { title: t('申报时限'), render: (_: unknown, c: Change) => fmt(c.filingDueAt) },
          {
            title: t('申请内容'),
            render: (_: unknown, c: Change) =>
              c.changeTypeLabel ? (
                <span>
                  {c.changeTypeLabel} {c.itemCode}
                  {c.request?.item?.name ? `（${c.request.item.name}）` : ''}
                  <br />
                  <small>{c.request?.basis}</small>
                </span>
              ) : (
                '—'
              ),
          },
          {
            title: t('审核时限'),
            render: (_: unknown, c: Change) => (c.decisionDueAt ? fmt(c.decisionDueAt) : '—'),
          },
          {
            title: t('审核结果'),
            render: (_: unknown, c: Change) =>
              c.status === 'approved'
                ? t('已发布第 {v} 版（{at}）', { v: c.publishedVersion ?? '-', at: fmt(c.decidedAt) })
                : c.status === 'rejected'
                  ? `${t('理由')}：${c.decisionReason ?? ''}`
                  : '—',
          },
          {
            title: t('操作'),
            render: (_: unknown, c: Change) => {
              if (!office && c.status === 'awaiting_filing')
                return (
                  <Button
                    size="small"
                    onClick={() => {
                      const cur = catalog.items.find((i) => i.code === c.itemCode);
                      fileForm.setFieldsValue({
                        changeType: 'change',
                        itemCode: c.itemCode ?? undefined,
                        ...(cur
                          ? {
                              name: cur.name,
                              legalBasis: cur.legalBasis,
                              exemptionMethod: cur.exemptionMethod,
                            }
                          : {}),
                      });
                      setFiling(c);
                    }}
                  >
                    {t('提交申请')}
                  </Button>
                );
              if (office && c.status === 'filed')
                return (
                  <Space>
                    <Button size="small" type="primary" loading={busy} onClick={() => void decide(c, true)}>
                      {t('审核通过')}
                    </Button>
                    <Button size="small" danger onClick={() => setRejecting(c)}>
                      {t('不予通过')}
                    </Button>
                  </Space>
                );
              return null;
            },
          },
        ]}
      />

      <Modal
        open={causeOpen}
        title={t('登记调整事由')}
        okText={t('登记')}
        confirmLoading={busy}
        onOk={() => void recordCause()}
        onCancel={() => setCauseOpen(false)}
      >
        <Form form={causeForm} layout="vertical" initialValues={{ causeKind: 'law', causeDate: today() }}>
          <Form.Item name="causeKind" label={t('事由类型')} rules={[{ required: true }]}>
            <Select options={CAUSES.map(([value, label]) => ({ value, label: t(label) }))} />
          </Form.Item>
          <Form.Item
            name="causeDate"
            label={t('事由发生之日（北京时间）')}
            rules={[
              { required: true, pattern: /^\d{4}-\d{2}-\d{2}$/, message: t('请填写日期，如 2026-12-01') },
            ]}
          >
            <Input placeholder="YYYY-MM-DD" />
          </Form.Item>
          <Form.Item name="description" label={t('事由说明')} rules={[{ required: true, min: 2 }]}>
            <Input.TextArea rows={2} />
          </Form.Item>
          <Form.Item name="itemCode" label={t('涉及的证明事项（可不填）')}>
            <Select
              allowClear
              options={catalog.items.map((i) => ({ value: i.code, label: `${i.code} ${i.name}` }))}
            />
          </Form.Item>
        </Form>
      </Modal>

      <Modal
        open={!!filing}
        title={t('提交书面申请')}
        okText={t('提交')}
        confirmLoading={busy}
        onOk={() => void fileRequest()}
        onCancel={() => setFiling(undefined)}
      >
        <Form form={fileForm} layout="vertical">
          <Form.Item name="changeType" label={t('调整类型')} rules={[{ required: true }]}>
            <Radio.Group
              options={[
                { value: 'change', label: t('变更') },
                { value: 'remove', label: t('取消') },
              ]}
            />
          </Form.Item>
          <Form.Item name="itemCode" label={t('证明事项')} rules={[{ required: true }]}>
            <Select
              options={catalog.items.map((i) => ({ value: i.code, label: `${i.code} ${i.name}` }))}
              onChange={(code: string) => {
                const cur = catalog.items.find((i) => i.code === code);
                if (cur)
                  fileForm.setFieldsValue({
                    name: cur.name,
                    legalBasis: cur.legalBasis,
                    exemptionMethod: cur.exemptionMethod,
                  });
              }}
            />
          </Form.Item>
          <Form.Item noStyle shouldUpdate>
            {() =>
              fileForm.getFieldValue('changeType') === 'change' ? (
                <>
                  <Form.Item
                    name="name"
                    label={t('调整后的证明事项名称')}
                    rules={[{ required: true, min: 2 }]}
                  >
                    <Input />
                  </Form.Item>
                  <Form.Item name="legalBasis" label={t('设定依据')} rules={[{ required: true, min: 2 }]}>
                    <Input />
                  </Form.Item>
                  <Form.Item
                    name="exemptionMethod"
                    label={t('免提交方式')}
                    rules={[{ required: true, min: 2 }]}
                  >
                    <Input />
                  </Form.Item>
                </>
              ) : null
            }
          </Form.Item>
          <Form.Item name="basis" label={t('调整依据')} rules={[{ required: true, min: 2 }]}>
            <Input.TextArea rows={2} />
          </Form.Item>
        </Form>
      </Modal>

      <Modal
        open={!!rejecting}
        title={t('不予通过')}
        okText={t('确定')}
        confirmLoading={busy}
        onOk={async () => {
          const v = await rejectForm.validateFields();
          if (rejecting && (await decide(rejecting, false, v.reason))) {
            setRejecting(undefined);
            rejectForm.resetFields();
          }
        }}
        onCancel={() => setRejecting(undefined)}
      >
        <Form form={rejectForm} layout="vertical">
          <Form.Item name="reason" label={t('理由')} rules={[{ required: true, min: 2 }]}>
            <Input.TextArea rows={3} />
          </Form.Item>
        </Form>
      </Modal>
    </div>
  );
}
