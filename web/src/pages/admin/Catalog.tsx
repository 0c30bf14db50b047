/**
 * Catalog items (证明事项) and their templates: the list with each item's fields, and a dialog to add an
 * item or publish a new version, its templates designed field by field (TemplateDesigner) with a live
 * preview; the JSON Schema stays available for experts.
 */
import { App, Button, Card, Checkbox, Form, Input, Radio, Select, Space, Table, Tag } from 'antd';
import { useState } from 'react';
import { api, isMissingRoute } from '../../api.ts';
import { MissingRoute, PageHeader, ProblemAlert } from '../../components.tsx';
import { useApi } from '../../data.ts';
import { t } from '../../i18n.ts';
import { TIERS, tierLabel } from '../../labels.ts';
import type { CatalogItem, JsonObject, Unit } from '../../types.ts';
import { FormModal } from './FormModal.tsx';
import { FIELD_TYPES, fieldsOf, TemplateDesigner, templateRule } from './TemplateDesigner.tsx';

/** A template's fields as people read them: name, type, required, options. */
function TemplateFields({ schema }: { schema: JsonObject }) {
  const fields = fieldsOf(schema);
  if (!fields.length) return <span>{t('（无字段）')}</span>;
  return (
    <ol style={{ margin: 0, paddingInlineStart: 20 }}>
      {fields.map((f) => (
        <li key={f.key}>
          {f.title || f.key}（{t(FIELD_TYPES.find((x) => x.value === f.type)?.label ?? f.type)}
          {f.required ? `，${t('必填')}` : ''}
          {f.type === 'select' ? `：${f.options.join('、')}` : ''}）
        </li>
      ))}
    </ol>
  );
}

type AdminItem = CatalogItem & { versions: number; active: boolean };

export function CatalogSection() {
  const { data, error, reload } = useApi<{ items: AdminItem[] }>('/api/v1/admin/catalog');
  const units = useApi<{ items: Unit[] }>('/api/v1/units');
  const { message } = App.useApp();
  const [editing, setEditing] = useState<AdminItem | 'new'>();
  if (isMissingRoute(error)) return <MissingRoute route="GET /api/v1/admin/catalog" />;
  const issuers = (units.data?.items ?? []).filter((u) => u.canIssue);
  const initial =
    editing && editing !== 'new'
      ? {
          ...editing,
          issuingUnitCodes: editing.issuingUnits.map((u) => u.code),
          subjectKinds: editing.subjectKinds ?? ['person', 'company'],
          requestSchema: editing.requestSchema,
          responseSchema: editing.responseSchema,
        }
      : {
          defaultTier: '30m',
          exemptionMethod: '部门核验',
          subjectKinds: ['person', 'company'],
          requestSchema: { type: 'object', required: [], properties: {} },
          responseSchema: { type: 'object', required: [], properties: {} },
        };
  return (
    <div>
      <PageHeader
        title={t('证明事项')}
        extra={
          <Button type="primary" onClick={() => setEditing('new')}>
            {t('新增')}
          </Button>
        }
      />
      <ProblemAlert error={error} />
      <Table<AdminItem>
        rowKey="code"
        size="middle"
        pagination={false}
        scroll={{ x: 900 }}
        dataSource={data?.items ?? []}
        expandable={{
          expandedRowRender: (i) => (
            <div className="template-json">
              <Card size="small" title={t('协查函模板')}>
                <TemplateFields schema={i.requestSchema ?? {}} />
              </Card>
              <Card size="small" title={t('反馈函模板')}>
                <TemplateFields schema={i.responseSchema ?? {}} />
              </Card>
            </div>
          ),
        }}
        columns={[
          { title: t('编码'), dataIndex: 'code' },
          { title: t('名称'), dataIndex: 'name' },
          { title: t('办理事项'), dataIndex: 'serviceItemName' },
          {
            title: t('出具单位'),
            dataIndex: 'issuingUnits',
            render: (u: CatalogItem['issuingUnits']) => u.map((x) => x.name).join('、'),
          },
          { title: t('默认时限'), dataIndex: 'defaultTier', render: (v: string) => tierLabel(v) },
          { title: t('版本'), dataIndex: 'version', render: (v: number, i) => `v${v}（${i.versions}）` },
          {
            title: t('状态'),
            dataIndex: 'active',
            render: (a: boolean) => (a ? <Tag color="green">{t('在用')}</Tag> : <Tag>{t('停用')}</Tag>),
          },
          {
            title: t('操作'),
            key: 'a',
            render: (_v, i) => (
              <Space wrap size={4}>
                <Button size="small" onClick={() => setEditing(i)}>
                  {t('发布新版本')}
                </Button>
                <Button
                  size="small"
                  danger={i.active}
                  onClick={async () => {
                    try {
                      await api.post(
                        `/api/v1/admin/catalog/${encodeURIComponent(i.code)}/${i.active ? 'deactivate' : 'activate'}`,
                      );
                      void reload(true);
                    } catch (e) {
                      void message.error((e as Error).message);
                    }
                  }}
                >
                  {i.active ? t('停用') : t('启用')}
                </Button>
              </Space>
            ),
          },
        ]}
      />
      <FormModal
        open={Boolean(editing)}
        title={editing === 'new' ? t('新增证明事项') : `${t('发布新版本')} · ${editing?.name ?? ''}`}
        initial={initial as Record<string, unknown>}
        onClose={() => setEditing(undefined)}
        width={1100}
        onSubmit={async (v) => {
          const body: Record<string, unknown> = {
            ...v,
            serviceItemCode: v.serviceItemCode || null,
            requestSchema: v.requestSchema,
            responseSchema: v.responseSchema,
          };
          if (editing === 'new') await api.post('/api/v1/admin/catalog', body);
          else {
            const { code: _c, ...rest } = body;
            await api.put(`/api/v1/admin/catalog/${encodeURIComponent(editing?.code ?? '')}`, rest);
          }
          void reload(true);
        }}
      >
        <Form.Item name="code" label={t('编码')} rules={[{ required: true }]} extra="如 HJ-001">
          <Input disabled={editing !== 'new'} />
        </Form.Item>
        <Form.Item name="name" label={t('名称')} rules={[{ required: true, min: 2 }]}>
          <Input />
        </Form.Item>
        <Form.Item name="serviceItemName" label={t('办理事项')} rules={[{ required: true, min: 2 }]}>
          <Input />
        </Form.Item>
        <Form.Item name="serviceItemCode" label={t('事项编码')}>
          <Input />
        </Form.Item>
        <Form.Item name="legalBasis" label={t('法律依据')} rules={[{ required: true, min: 2 }]}>
          <Input />
        </Form.Item>
        <Form.Item
          name="issuingUnitCodes"
          label={t('出具单位')}
          rules={[{ required: true }]}
          extra={t('第一个为默认')}
        >
          <Select mode="multiple" options={issuers.map((u) => ({ value: u.code, label: u.name }))} />
        </Form.Item>
        <Form.Item name="defaultTier" label={t('默认时限')} rules={[{ required: true }]}>
          <Radio.Group options={TIERS.map((x) => ({ value: x, label: tierLabel(x) }))} />
        </Form.Item>
        <Form.Item
          name="subjectKinds"
          label={t('核验对象类型')}
          rules={[{ required: true, type: 'array', min: 1, message: t('至少选择一种核验对象类型') }]}
          extra={t('只核验个人的事项，新建协查时不提供“企业”')}
        >
          <Checkbox.Group
            options={[
              { value: 'person', label: t('个人（公民身份号码）') },
              { value: 'company', label: t('企业（统一社会信用代码）') },
            ]}
          />
        </Form.Item>
        <Form.Item name="exemptionMethod" label={t('免提交方式')} rules={[{ required: true, min: 2 }]}>
          <Input />
        </Form.Item>
        <Form.Item name="requestSchema" label={t('协查函模板')} rules={[{ required: true }, templateRule]}>
          <TemplateDesigner label={t('协查函模板')} />
        </Form.Item>
        <Form.Item name="responseSchema" label={t('反馈函模板')} rules={[{ required: true }, templateRule]}>
          <TemplateDesigner label={t('反馈函模板')} />
        </Form.Item>
      </FormModal>
    </div>
  );
}
