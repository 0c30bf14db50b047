/**
 * The template of a catalog item (协查函 / 反馈函) designed field by field instead of as raw JSON Schema:
 * add a field, order it, choose its type (文本 / 数字 / 日期 / 单选 / 是否), whether it is required, the
 * options of a choice, its Chinese label; the JSON stays available for experts (a tab), and the form it
 * generates is previewed live beside it. A form control (`value` / `onChange` of antd's Form.Item): the
 * value is the JSON Schema object the API stores.
 *
 * What the designer does not manage (a field's pattern, length limits, description; other top-level
 * keywords) is kept as it is. The field order is stored as `x-order` (templates stored as jsonb come
 * back with their keys reordered; `fieldOrder` in components.tsx follows `x-order`).
 */
import { ArrowDownOutlined, ArrowUpOutlined, DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { Alert, Button, Card, Checkbox, Col, Empty, Input, Row, Select, Space, Tabs, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { fieldOrder, SchemaForm } from '../../components.tsx';
import { t } from '../../i18n.ts';
import type { JsonObject } from '../../types.ts';
import { jsonProblem } from './json-text.ts';

export type FieldType = 'text' | 'number' | 'date' | 'select' | 'boolean';

export interface FieldDef {
  key: string;
  title: string;
  type: FieldType;
  required: boolean;
  options: string[];
  /** Keywords of the property the designer does not manage, kept as they were. */
  extra: JsonObject;
}

export const FIELD_TYPES: { value: FieldType; label: string }[] = [
  { value: 'text', label: '文本' },
  { value: 'number', label: '数字' },
  { value: 'date', label: '日期' },
  { value: 'select', label: '单选（选项）' },
  { value: 'boolean', label: '是 / 否' },
];

const MANAGED = new Set(['type', 'format', 'enum', 'enumNames', 'oneOf', 'anyOf', 'title', 'items']);

function typeOf(p: JsonObject): FieldType {
  if (p.type === 'boolean') return 'boolean';
  if (p.type === 'number' || p.type === 'integer') return 'number';
  if (Array.isArray(p.enum) || Array.isArray(p.oneOf) || Array.isArray(p.anyOf)) return 'select';
  if (p.format === 'date') return 'date';
  return 'text';
}

function optionsOf(p: JsonObject): string[] {
  if (Array.isArray(p.enum)) return p.enum.map(String);
  const list = (Array.isArray(p.oneOf) ? p.oneOf : Array.isArray(p.anyOf) ? p.anyOf : []) as JsonObject[];
  return list.map((o) => String(o.title ?? o.const ?? ''));
}

/** The fields of a template, in the order people see them. */
export function fieldsOf(schema: JsonObject): FieldDef[] {
  const props = (schema.properties ?? {}) as Record<string, JsonObject>;
  const required = new Set((schema.required as string[] | undefined) ?? []);
  return fieldOrder(schema)
    .filter((k) => k !== '*' && k in props)
    .map((key) => {
      const p = props[key] as JsonObject;
      const extra = Object.fromEntries(Object.entries(p).filter(([k]) => !MANAGED.has(k))) as JsonObject;
      return {
        key,
        title: String(p.title ?? ''),
        type: typeOf(p),
        required: required.has(key),
        options: optionsOf(p),
        extra,
      };
    });
}

function propertyOf(f: FieldDef): JsonObject {
  const base: JsonObject = { ...f.extra, title: f.title };
  switch (f.type) {
    case 'number':
      return { ...base, type: 'number' };
    case 'date':
      return { ...base, type: 'string', format: 'date' };
    case 'select':
      return { ...base, type: 'string', enum: f.options };
    case 'boolean':
      return { ...base, type: 'boolean' };
    default:
      return { ...base, type: 'string' };
  }
}

/** The JSON Schema of the fields, keeping the template's other top-level keywords. */
export function schemaOf(fields: FieldDef[], base: JsonObject): JsonObject {
  const { properties: _p, required: _r, 'x-order': _o, ...rest } = base;
  return {
    ...rest,
    type: 'object',
    required: fields.filter((f) => f.required).map((f) => f.key),
    properties: Object.fromEntries(fields.map((f) => [f.key, propertyOf(f)])),
    'x-order': fields.map((f) => f.key),
  };
}

/** What is wrong with the fields, in Chinese (empty when nothing is). */
export function fieldProblems(fields: FieldDef[]): string[] {
  const out: string[] = [];
  const keys = new Set<string>();
  fields.forEach((f, i) => {
    const n = t('第 {n} 个字段', { n: i + 1 });
    if (!f.title.trim()) out.push(`${n}：${t('请填写中文名称')}`);
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(f.key))
      out.push(`${n}：${t('字段标识须以英文字母开头，只含字母、数字和下划线')}`);
    else if (keys.has(f.key)) out.push(`${n}：${t('字段标识“{k}”重复', { k: f.key })}`);
    keys.add(f.key);
    if (f.type === 'select' && f.options.filter((o) => o.trim()).length < 2)
      out.push(`${n}：${t('单选至少需要两个选项')}`);
  });
  return out;
}

const newKey = (fields: FieldDef[]) => {
  let i = fields.length + 1;
  while (fields.some((f) => f.key === `field${i}`)) i++;
  return `field${i}`;
};

/** The designer, the JSON tab and the live preview of one template. */
export function TemplateDesigner({
  value,
  onChange,
  id,
  label,
}: {
  value?: JsonObject;
  onChange?: (v: JsonObject) => void;
  id?: string;
  /** 协查函模板 / 反馈函模板: names the preview and the controls. */
  label: string;
}) {
  const schema = value ?? { type: 'object', required: [], properties: {} };
  const [fields, setFields] = useState<FieldDef[]>(() => fieldsOf(schema));
  const [tab, setTab] = useState('design');
  const [json, setJson] = useState(() => JSON.stringify(schema, null, 2));
  const [jsonError, setJsonError] = useState<string>();
  const [preview, setPreview] = useState<JsonObject>({});

  // Another template loaded from outside (a different item): start over from it.
  // biome-ignore lint/correctness/useExhaustiveDependencies: only when the template is replaced
  useEffect(() => {
    if (tab === 'json') return;
    setJson(JSON.stringify(schema, null, 2));
  }, [value]);

  const update = (next: FieldDef[]) => {
    setFields(next);
    const s = schemaOf(next, schema);
    setJson(JSON.stringify(s, null, 2));
    setJsonError(undefined);
    onChange?.(s);
  };
  const patch = (i: number, p: Partial<FieldDef>) =>
    update(fields.map((f, j) => (j === i ? { ...f, ...p } : f)));
  const move = (i: number, by: -1 | 1) => {
    const next = [...fields];
    const [f] = next.splice(i, 1);
    if (!f) return;
    next.splice(i + by, 0, f);
    update(next);
  };

  const problems = fieldProblems(fields);

  const designer = (
    <Space orientation="vertical" style={{ width: '100%' }} size={8}>
      {fields.length === 0 && (
        <Empty
          image={Empty.PRESENTED_IMAGE_SIMPLE}
          description={t('还没有字段：点击“添加字段”，填写中文名称并选择类型。')}
        />
      )}
      {fields.map((f, i) => (
        <Card
          // biome-ignore lint/suspicious/noArrayIndexKey: the position is the identity while keys are typed
          key={i}
          size="small"
          className="designer-field"
          data-testid="designer-field"
          title={
            <Space size={4}>
              <Typography.Text type="secondary">{i + 1}.</Typography.Text>
              <Input
                aria-label={t('字段名称')}
                placeholder={t('中文名称，如 申报的户籍地址')}
                value={f.title}
                onChange={(e) => patch(i, { title: e.target.value })}
                style={{ width: 220 }}
              />
            </Space>
          }
          extra={
            <Space size={0}>
              <Button
                type="text"
                size="small"
                icon={<ArrowUpOutlined />}
                aria-label={t('上移')}
                disabled={i === 0}
                onClick={() => move(i, -1)}
              />
              <Button
                type="text"
                size="small"
                icon={<ArrowDownOutlined />}
                aria-label={t('下移')}
                disabled={i === fields.length - 1}
                onClick={() => move(i, 1)}
              />
              <Button
                type="text"
                size="small"
                danger
                icon={<DeleteOutlined />}
                aria-label={t('删除字段')}
                onClick={() => update(fields.filter((_f, j) => j !== i))}
              />
            </Space>
          }
        >
          <Space wrap size={8}>
            <Select
              aria-label={t('字段类型')}
              value={f.type}
              style={{ width: 140 }}
              options={FIELD_TYPES.map((x) => ({ value: x.value, label: t(x.label) }))}
              onChange={(type: FieldType) => patch(i, { type })}
            />
            <Checkbox checked={f.required} onChange={(e) => patch(i, { required: e.target.checked })}>
              {t('必填')}
            </Checkbox>
            <Input
              aria-label={t('字段标识')}
              addonBefore={t('标识')}
              value={f.key}
              style={{ width: 200 }}
              className="mono"
              onChange={(e) => patch(i, { key: e.target.value.trim() })}
            />
          </Space>
          {f.type === 'select' && (
            <Select
              mode="tags"
              aria-label={t('选项')}
              placeholder={t('输入一个选项后回车，如 未婚、已婚')}
              value={f.options}
              open={false}
              tokenSeparators={['，', ',', '、']}
              style={{ width: '100%', marginTop: 8 }}
              onChange={(options: string[]) => patch(i, { options })}
            />
          )}
        </Card>
      ))}
      <Button
        icon={<PlusOutlined />}
        onClick={() =>
          update([
            ...fields,
            { key: newKey(fields), title: '', type: 'text', required: false, options: [], extra: {} },
          ])
        }
      >
        {t('添加字段')}
      </Button>
      {problems.length > 0 && (
        <Alert
          type="warning"
          showIcon
          data-testid="designer-problems"
          title={t('请完善字段')}
          description={
            <ul style={{ margin: 0, paddingInlineStart: 20 }}>
              {problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          }
        />
      )}
    </Space>
  );

  const expert = (
    <Space orientation="vertical" style={{ width: '100%' }}>
      <Typography.Text type="secondary">
        {t('供熟悉 JSON Schema 的人员使用；修改后字段设计和预览随之更新。')}
      </Typography.Text>
      <Input.TextArea
        aria-label={`${label}（JSON）`}
        rows={14}
        className="mono"
        spellCheck={false}
        value={json}
        onChange={(e) => {
          const text = e.target.value;
          setJson(text);
          const problem = jsonProblem(text);
          setJsonError(problem);
          if (problem) return;
          const s = JSON.parse(text) as JsonObject;
          setFields(fieldsOf(s));
          onChange?.(s);
        }}
      />
      {jsonError && <Alert type="error" showIcon data-testid="json-problem" title={jsonError} />}
    </Space>
  );

  return (
    <Row gutter={16} id={id} data-testid="template-designer">
      <Col xs={24} lg={14}>
        <Tabs
          activeKey={tab}
          onChange={setTab}
          size="small"
          items={[
            { key: 'design', label: t('字段设计'), children: designer },
            { key: 'json', label: t('JSON（高级）'), children: expert },
          ]}
        />
      </Col>
      <Col xs={24} lg={10}>
        <Card size="small" title={`${t('预览')}：${label}`} data-testid="designer-preview">
          {fields.length ? (
            <SchemaForm
              schema={schemaOf(fields, schema)}
              formData={preview}
              onChange={setPreview}
              onSubmit={() => {}}
              submitText={t('提交（预览）')}
              idPrefix={`preview-${id ?? label}`}
              noDefaults
            />
          ) : (
            <Typography.Text type="secondary">{t('添加字段后，这里显示生成的表单。')}</Typography.Text>
          )}
        </Card>
      </Col>
    </Row>
  );
}

/** A Form.Item rule: the template's fields are complete (names, keys, options). */
export const templateRule = {
  validator: (_r: unknown, v: JsonObject | undefined) => {
    const problems = fieldProblems(fieldsOf(v ?? {}));
    return problems.length ? Promise.reject(new Error(problems[0])) : Promise.resolve();
  },
};
