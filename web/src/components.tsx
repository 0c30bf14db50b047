/** Shared pieces: error display, SLA and status tags, schema-driven forms and views, case cards. */
import type { ErrorSchema } from '@rjsf/utils';
import {
  Alert,
  Button,
  type ButtonProps,
  Card,
  Descriptions,
  Empty,
  Skeleton,
  Space,
  Table,
  type TableColumnType,
  Tag,
  Typography,
} from 'antd';
import { lazy, type ReactNode, Suspense, useEffect, useState } from 'react';
import { ApiError } from './api.ts';
import { useUnits } from './data.ts';
import { t } from './i18n.ts';
import { RESULT_COLOR, resultLabel, STATUS_COLOR, statusLabel, supervisionText } from './labels.ts';
import { Link, navigate } from './router.tsx';
import type { SchemaFormProps } from './schema-form.tsx';
import { fmt, fmtCn, fmtDateCn, type SlaInput, slaState, slaText } from './time.ts';
import type { CaseSummary, JsonObject } from './types.ts';

/** Whether a CSS media query matches, from the first render on (no flash of the wide layout on a phone). */
export function useMediaQuery(query: string): boolean {
  const [matches, setMatches] = useState(() => window.matchMedia(query).matches);
  useEffect(() => {
    const mq = window.matchMedia(query);
    const on = () => setMatches(mq.matches);
    on();
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, [query]);
  return matches;
}

/** Phone width (below antd's `md`, 768 px): tables become cards. */
export const usePhone = (): boolean => useMediaQuery('(max-width: 767px)');

/** Re-renders every `ms` so countdowns move. */
export function useNow(ms = 15_000): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const id = setInterval(() => setNow(new Date()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return now;
}

const POINTER_NAMES: Record<string, string> = {
  '/body/subject/idNumber': '公民身份号码 / 统一社会信用代码',
  '/body/subject/name': '姓名 / 名称',
  '/body/purpose': '用途',
  '/body/catalogCode': '证明事项',
  '/body/issuingUnit': '出具单位',
  '/body/reason': '理由',
  '/body/note': '说明',
  '/body/dueAt': '限办时间',
  '/body/outcome': '处理结果',
  '/body/currentPassword': '当前密码',
  '/body/newPassword': '新密码',
  '/querystring/purpose': '查阅目的',
};

function pointerName(pointer: string): string {
  const known = POINTER_NAMES[pointer];
  if (known) return t(known);
  return pointer.replace(/^\/(body|querystring|params)\//, '').replaceAll('/', ' › ');
}

/** A problem+json error: its title, its actionable detail, and each field error. */
export function ProblemAlert({ error, onClose }: { error: unknown; onClose?: () => void }) {
  if (!error) return null;
  const e =
    error instanceof ApiError
      ? error
      : new ApiError(0, '出错了', error instanceof Error ? error.message : String(error));
  return (
    <Alert
      type={e.status >= 500 || e.status === 0 ? 'error' : 'warning'}
      showIcon
      role="alert"
      closable={onClose ? { onClose } : undefined}
      title={e.title}
      description={
        <div>
          <div>{e.detail}</div>
          {e.errors.length > 0 && (
            <ul style={{ margin: '4px 0 0', paddingInlineStart: 20 }}>
              {e.errors.map((f) => (
                <li key={f.pointer + f.detail}>
                  <strong>{pointerName(f.pointer)}</strong>：{f.detail}
                </li>
              ))}
            </ul>
          )}
        </div>
      }
      style={{ marginBottom: 16 }}
    />
  );
}

const SLA_COLOR = {
  ontime: 'green',
  soon: 'orange',
  overdue: 'red',
  closed: 'default',
  paused: 'orange',
} as const;

export function SlaTag({ c }: { c: SlaInput }) {
  useNow(15_000);
  const s = slaState(c);
  return (
    <Tag color={SLA_COLOR[s.kind]} data-sla={s.kind} style={{ whiteSpace: 'normal' }}>
      {slaText(s)}
    </Tag>
  );
}

/**
 * The 督办 state at a glance: the escalation level of a case the office supervises, and whether it
 * ordered a deadline (责成限时办结). Nothing for a case without an open escalation.
 */
export function SupervisionTag({ c }: { c: { escalationLevel: number; orderedDueAt?: string | null } }) {
  if (!c.escalationLevel) return null;
  return (
    <Tag
      color="red"
      data-testid="supervision-tag"
      data-level={c.escalationLevel}
      style={{ whiteSpace: 'normal' }}
    >
      {supervisionText(c)}
    </Tag>
  );
}

/** The deadline in force (the office's ordered one while it holds), with its SLA state and the 督办 tag. */
export function DeadlineInForce({ c }: { c: SlaInput & { escalationLevel: number } }) {
  return (
    <div className="deadline-in-force" data-testid="deadline-in-force">
      <div>
        {fmt(c.dueInForce ?? c.dueAt)}
        {c.orderedDueAt && (
          <Typography.Text type="danger" style={{ marginInlineStart: 4 }}>
            （{t('责成时限')}）
          </Typography.Text>
        )}
      </div>
      <Space size={4} wrap>
        <SlaTag c={c} />
        <SupervisionTag c={c} />
      </Space>
    </div>
  );
}

export function StatusTag({ status }: { status: string }) {
  return (
    <Tag color={STATUS_COLOR[status] ?? 'default'} data-status={status}>
      {statusLabel(status)}
    </Tag>
  );
}

export function ResultTag({ result }: { result: string | null }) {
  if (!result) return <span>—</span>;
  return <Tag color={RESULT_COLOR[result] ?? 'default'}>{resultLabel(result)}</Tag>;
}

// ─── JSON Schema templates ───────────────────────────────────────────────────────────────────────

export type SchemaProps = {
  title?: string;
  type?: string | string[];
  enum?: unknown[];
  format?: string;
  oneOf?: { const?: unknown; title?: string }[];
  anyOf?: { const?: unknown; title?: string }[];
  enumNames?: string[];
  default?: unknown;
};

export function propsOf(schema: JsonObject | null | undefined): Record<string, SchemaProps> {
  return ((schema?.properties as Record<string, SchemaProps> | undefined) ?? {}) as Record<
    string,
    SchemaProps
  >;
}

/**
 * The designer's order (`x-order`) when the template has one; else required fields first, then the rest
 * in the template's order. (Templates stored as PostgreSQL jsonb come back with their keys sorted by
 * length, so the template's own order is not reliable.)
 */
export function fieldOrder(schema: JsonObject | null | undefined): string[] {
  const keys = Object.keys(propsOf(schema));
  // The order set in the template designer (admin/TemplateDesigner.tsx), when there is one.
  const designed = Array.isArray(schema?.['x-order'])
    ? (schema['x-order'] as unknown[]).filter((k): k is string => typeof k === 'string' && keys.includes(k))
    : [];
  if (designed.length) return [...designed, ...keys.filter((k) => !designed.includes(k)), '*'];
  const required = ((schema?.required as string[] | undefined) ?? []).filter((k) => keys.includes(k));
  return [...required, ...keys.filter((k) => !required.includes(k)), '*'];
}

/** Server field errors (`/body/fields/x`) as rjsf extra errors on the form's fields. */
export function fieldErrorsOf(error: unknown, prefix = '/body/fields/'): ErrorSchema | undefined {
  if (!(error instanceof ApiError)) return undefined;
  const out: Record<string, { __errors: string[] }> = {};
  for (const f of error.errors) {
    if (!f.pointer.startsWith(prefix)) continue;
    const key = f.pointer.slice(prefix.length).split('/')[0] ?? '';
    if (!key) continue;
    out[key] ??= { __errors: [] };
    out[key].__errors.push(f.detail);
  }
  return Object.keys(out).length ? (out as ErrorSchema) : undefined;
}

/**
 * A form generated from a catalog item's JSON Schema template (@rjsf/antd, validated with ajv8), loaded
 * on demand: @rjsf and ajv are in a chunk of their own (`forms`), not in a clerk's first load.
 */
const LazySchemaForm = lazy(() => import('./schema-form.tsx'));

export function SchemaForm(props: SchemaFormProps) {
  return (
    <Suspense fallback={<Skeleton active paragraph={{ rows: 4 }} />}>
      <LazySchemaForm {...props} />
    </Suspense>
  );
}

export function fieldText(v: unknown, prop?: SchemaProps, style: 'screen' | 'letter' = 'screen'): string {
  if (v === true) return t('是');
  if (v === false) return t('否');
  if (v === null || v === undefined || v === '') return '—';
  if (Array.isArray(v)) return v.map((x) => fieldText(x, undefined, style)).join('、') || '—';
  if (typeof v === 'object') return JSON.stringify(v);
  const option = [...(prop?.oneOf ?? []), ...(prop?.anyOf ?? [])].find((o) => o.const === v);
  if (option?.title) return option.title;
  const i = prop?.enum?.indexOf(v) ?? -1;
  if (i >= 0 && prop?.enumNames?.[i]) return prop.enumNames[i] as string;
  // Letters read dates the Chinese way (2026年12月1日), as their own dates do; screens the short way.
  if (typeof v === 'string' && (prop?.format === 'date-time' || /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v)))
    return style === 'letter' ? fmtCn(v) : fmt(v);
  if (
    typeof v === 'string' &&
    style === 'letter' &&
    (prop?.format === 'date' || /^\d{4}-\d{2}-\d{2}$/.test(v))
  )
    return fmtDateCn(v);
  return String(v);
}

/** The fields of a template with their titles and readable values, in the template's order. */
export function fieldRows(
  schema: JsonObject | null | undefined,
  data: JsonObject | null | undefined,
  style: 'screen' | 'letter' = 'screen',
): [string, string][] {
  if (!data) return [];
  const props = propsOf(schema);
  const ordered = fieldOrder(schema).filter((k) => k !== '*');
  const keys = [...ordered.filter((k) => k in data), ...Object.keys(data).filter((k) => !(k in props))];
  return keys.map((k) => [props[k]?.title ?? k, fieldText(data[k], props[k], style)]);
}

/** Fields of a case shown with the titles of their template, in the template's order. */
export function SchemaView({
  schema,
  data,
  columns = 1,
}: {
  schema: JsonObject | null | undefined;
  data: JsonObject | null | undefined;
  columns?: number;
}) {
  if (!data || Object.keys(data).length === 0) return <Typography.Text type="secondary">—</Typography.Text>;
  return (
    <Descriptions
      size="small"
      bordered
      column={columns}
      className="long-text-descriptions"
      items={fieldRows(schema, data).map(([label, value], i) => ({
        key: `${i}-${label}`,
        label,
        children: value,
      }))}
    />
  );
}

/** Rows as cards, for phone-width screens. */
export function CaseCards({
  items,
  unitField,
  actions,
  empty,
}: {
  items: CaseSummary[];
  unitField: 'issuingUnit' | 'requestingUnit';
  actions?: (c: CaseSummary) => ReactNode;
  /** What an empty list says (what it means, what to do next). */
  empty?: ReactNode;
}) {
  const units = useUnits();
  if (!items.length) return empty ?? <Empty description={t('暂无数据')} />;
  return (
    <Space orientation="vertical" style={{ width: '100%' }} size={12}>
      {items.map((c) => (
        <Card
          key={c.id}
          size="small"
          className={`case-card sla-${slaState(c).kind}`}
          title={
            <Link to={`/cases/${encodeURIComponent(c.id)}`} className="doc-link">
              {c.docNumber}
            </Link>
          }
          extra={<StatusTag status={c.status} />}
        >
          <div className="card-line">{c.catalogName ?? c.catalogCode}</div>
          <div className="card-line">
            <Typography.Text type="secondary">{t('核验对象')}：</Typography.Text>
            {c.subject}
          </div>
          <div className="card-line">
            <Typography.Text type="secondary">
              {unitField === 'issuingUnit' ? t('出具单位') : t('需求单位')}：
            </Typography.Text>
            {units.name(c[unitField])}
          </div>
          <div className="card-line">
            <SlaTag c={c} /> <SupervisionTag c={c} /> {c.result && <ResultTag result={c.result} />}
          </div>
          <div className="card-line">
            <Typography.Text type="secondary">{c.orderedDueAt ? t('责成时限') : t('时限')}：</Typography.Text>
            {fmt(c.dueInForce ?? c.dueAt)}
          </div>
          {actions && <div style={{ marginTop: 8 }}>{actions(c)}</div>}
        </Card>
      ))}
    </Space>
  );
}

/** A column of a `RecordTable`: its title, and the cell (from the row) as read in a table or on a card. */
export interface RecordColumn<T> {
  key: string;
  title: string;
  render: (row: T) => ReactNode;
}

/**
 * A small table of records (督办记录, the ladder) that stays readable at any width: a table scrolling sideways
 * in its own box on a tablet or desktop, and one card per record (each value under its column's title) on a
 * phone, where a table would be cut or need sideways scrolling.
 */
export function RecordTable<T extends { id: string }>({
  rows,
  columns,
  title,
  testId,
}: {
  rows: T[];
  columns: RecordColumn<T>[];
  title?: string;
  testId?: string;
}) {
  const phone = usePhone();
  if (phone)
    return (
      <div className="record-cards" data-testid={testId}>
        {title && <Typography.Text strong>{title}</Typography.Text>}
        {rows.map((r) => (
          <Descriptions
            key={r.id}
            size="small"
            bordered
            column={1}
            className="record-card"
            items={columns.map((c) => ({ key: c.key, label: c.title, children: c.render(r) }))}
          />
        ))}
      </div>
    );
  return (
    <Table<T>
      size="small"
      rowKey="id"
      pagination={false}
      scroll={{ x: 'max-content' }}
      className="long-text-table"
      data-testid={testId}
      title={title ? () => title : undefined}
      dataSource={rows}
      columns={columns.map(
        (c): TableColumnType<T> => ({ key: c.key, title: c.title, render: (_v, r) => c.render(r) }),
      )}
    />
  );
}

/** The page title row with optional extra buttons. */
export function PageHeader({ title, extra }: { title: ReactNode; extra?: ReactNode }) {
  return (
    <div className="page-header">
      <Typography.Title level={3} style={{ margin: 0 }}>
        {title}
      </Typography.Title>
      {extra && <Space wrap>{extra}</Space>}
    </div>
  );
}

export function MissingRoute({ route }: { route: string }) {
  return (
    <Alert
      type="info"
      showIcon
      title={t('本功能的接口尚未提供')}
      description={<code>{route}</code>}
      style={{ marginBottom: 16 }}
    />
  );
}

/** A button that is a real link (new tab, copy address), navigating in place on a plain click. */
export function LinkButton({
  to,
  children,
  ...rest
}: { to: string; children: ReactNode } & Omit<ButtonProps, 'href' | 'onClick'>) {
  return (
    <Button
      {...rest}
      href={to}
      onClick={(e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </Button>
  );
}

export function BackButton({ to }: { to: string }) {
  return <Button onClick={() => navigate(to)}>{t('返回')}</Button>;
}
