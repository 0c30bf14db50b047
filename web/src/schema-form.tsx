/**
 * A form generated from a catalog item's JSON Schema template (@rjsf/antd, validated with ajv8). Its own
 * module so that @rjsf and ajv load only when a page shows a form (see `SchemaForm` in components.tsx).
 */
import { Form as RjsfForm } from '@rjsf/antd';
import type { ErrorSchema, RJSFSchema, RJSFValidationError, UiSchema, WidgetProps } from '@rjsf/utils';
import validator from '@rjsf/validator-ajv8';
import { Input, Select } from 'antd';
import { type ReactNode, useEffect, useState } from 'react';
import { fieldOrder, propsOf } from './components.tsx';
import { t } from './i18n.ts';
import type { JsonObject } from './types.ts';

export interface SchemaFormProps {
  schema: JsonObject;
  formData: JsonObject;
  onChange: (d: JsonObject) => void;
  onSubmit: (d: JsonObject) => void;
  submitText: string;
  busy?: boolean;
  extraErrors?: ErrorSchema;
  idPrefix: string;
  children?: ReactNode;
  /** Told when a submit finds errors in the form (to flag the page's other fields in the same pass). */
  onInvalid?: () => void;
  /**
   * Nothing filled in for the person: no template default, and not rjsf's own `false` for a required
   * yes/no field (an answer must be chosen on purpose).
   */
  noDefaults?: boolean;
}

/**
 * uiSchema for a catalog template: yes/no fields and option lists as selects that start empty on
 * 请选择 (nothing is chosen for the person), long texts as text areas.
 */
export function uiSchemaFor(schema: JsonObject, submitText: string): UiSchema {
  const ui: UiSchema = {
    'ui:submitButtonOptions': { submitText, props: { type: 'primary' } },
    'ui:order': fieldOrder(schema),
  };
  for (const [k, p] of Object.entries(propsOf(schema))) {
    if ((p.type === 'number' || p.type === 'integer') && !p.enum) ui[k] = { 'ui:widget': 'NumberWidget' };
    else if (p.type === 'boolean') ui[k] = { 'ui:widget': 'YesNoWidget', 'ui:placeholder': t('请选择') };
    else if (p.enum || p.oneOf || p.anyOf) ui[k] = { 'ui:placeholder': t('请选择') };
    else if (p.type === 'string' && /备注|说明|情况/.test(p.title ?? '')) ui[k] = { 'ui:widget': 'textarea' };
  }
  return ui;
}

/** A yes/no field as a select that starts empty on 请选择: nothing is chosen for the person. */
function YesNoWidget({ id, value, disabled, readonly, onChange, onBlur, onFocus, options }: WidgetProps) {
  return (
    <Select
      id={id}
      value={value === true ? 'yes' : value === false ? 'no' : undefined}
      placeholder={String(options.placeholder ?? t('请选择'))}
      disabled={disabled || readonly}
      allowClear
      onChange={(v?: string) => onChange(v === 'yes' ? true : v === 'no' ? false : undefined)}
      onBlur={() => onBlur(id, value)}
      onFocus={() => onFocus(id, value)}
      options={[
        { value: 'yes', label: t('是') },
        { value: 'no', label: t('否') },
      ]}
      style={{ width: '100%' }}
    />
  );
}

const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)$/;
const INTEGER = /^[-+]?\d+$/;

/**
 * A number field that refuses what is not a number: the text typed stays on screen as typed, and until it
 * is a number the form holds the text itself, which the template's `type` refuses (请输入数字 / 请输入整数)
 * in the same pass as every other field. (antd's InputNumber silently drops "abc" on blur instead.)
 */
function NumberWidget({
  id,
  value,
  disabled,
  readonly,
  onChange,
  onBlur,
  onFocus,
  schema,
  placeholder,
}: WidgetProps) {
  const integer = schema.type === 'integer';
  const [raw, setRaw] = useState<string>(value === undefined || value === null ? '' : String(value));
  useEffect(() => {
    // Follow a value set from outside (a reset), not the text being typed.
    setRaw((r) => {
      const parsed =
        r.trim() === '' ? undefined : (integer ? INTEGER : NUMBER).test(r.trim()) ? Number(r) : r;
      return parsed === value ? r : value === undefined || value === null ? '' : String(value);
    });
  }, [value, integer]);
  return (
    <Input
      id={id}
      value={raw}
      inputMode={integer ? 'numeric' : 'decimal'}
      placeholder={placeholder || (integer ? t('请输入整数') : t('请输入数字'))}
      disabled={disabled || readonly}
      onChange={(e) => {
        const text = e.target.value;
        setRaw(text);
        const v = text.trim();
        onChange(v === '' ? undefined : (integer ? INTEGER : NUMBER).test(v) ? Number(v) : text);
      }}
      onBlur={() => onBlur(id, value)}
      onFocus={() => onFocus(id, value)}
    />
  );
}

const WIDGETS = { YesNoWidget, NumberWidget };

function zhMessage(e: RJSFValidationError): string {
  const p = (e.params ?? {}) as Record<string, unknown>;
  switch (e.name) {
    case 'required':
      return '必填';
    case 'minLength':
      return Number(p.limit) <= 1 ? '必填' : `至少 ${p.limit} 个字符`;
    case 'maxLength':
      return `不能超过 ${p.limit} 个字符`;
    case 'type':
      if (p.type === 'integer') return '请输入整数';
      if (p.type === 'number') return '请输入数字';
      return '类型不正确';
    case 'enum':
      return '请从选项中选择';
    case 'format':
      return '格式不正确';
    case 'pattern':
      return '格式不正确';
    case 'minimum':
      return `不能小于 ${p.limit}`;
    case 'maximum':
      return `不能大于 ${p.limit}`;
    default:
      return e.message ?? '不符合要求';
  }
}

const transformErrors = (errors: RJSFValidationError[]) =>
  errors.map((e) => ({ ...e, message: t(zhMessage(e)) }));

/** A form generated from a catalog item's JSON Schema template (@rjsf/antd, validated with ajv8). */
export default function SchemaForm({
  schema,
  formData,
  onChange,
  onSubmit,
  submitText,
  busy,
  extraErrors,
  idPrefix,
  children,
  onInvalid,
  noDefaults,
}: SchemaFormProps) {
  const { title: _title, ...rest } = schema as JsonObject & { title?: string };
  return (
    <RjsfForm
      schema={rest as RJSFSchema}
      uiSchema={uiSchemaFor(schema, submitText)}
      formData={formData}
      validator={validator}
      widgets={WIDGETS}
      idPrefix={idPrefix}
      showErrorList={false}
      transformErrors={transformErrors}
      extraErrors={extraErrors}
      noHtml5Validate
      {...(noDefaults
        ? { experimental_defaultFormStateBehavior: { emptyObjectFields: 'skipDefaults' as const } }
        : {})}
      disabled={busy}
      onChange={(e) => onChange((e.formData ?? {}) as JsonObject)}
      onSubmit={(e) => onSubmit((e.formData ?? {}) as JsonObject)}
      onError={() => onInvalid?.()}
    >
      {children}
    </RjsfForm>
  );
}

/**
 * A field's value as a person reads it (case page, letters, confirmations): 是/否, an option's title rather
 * than its code, instants in Beijing time, lists joined with 、.
 */
