/**
 * The requesting unit's ledger across its cases (台账, Art. 8): filter by period, kind, item and issuing
 * unit; newest first, more with the cursor. Each load is audited by the server.
 */
import { Button, DatePicker, Form, Select, Table } from 'antd';
import type { Dayjs } from 'dayjs';
import { useEffect, useState } from 'react';
import { api, isMissingRoute } from '../api.ts';
import { MissingRoute, PageHeader, ProblemAlert, ResultTag } from '../components.tsx';
import { useCatalog, useUnits } from '../data.ts';
import { EmptyHint } from '../empty-states.tsx';
import { t } from '../i18n.ts';
import { LEDGER_KINDS, ledgerLabel } from '../labels.ts';
import { Link } from '../router.tsx';
import { fmt } from '../time.ts';

interface LedgerItem {
  id: string;
  caseId: string;
  docNumber: string;
  catalogName: string | null;
  catalogCode: string;
  issuingUnit: string;
  issuingUnitName: string | null;
  subject: string;
  result: string | null;
  kind: string;
  note: string;
  outcome: string | null;
  recordedByName: string | null;
  at: string;
}

interface Filters {
  period?: [Dayjs | null, Dayjs | null] | null;
  kind?: string;
  catalogCode?: string;
  issuingUnit?: string;
}

/** Beijing-time day bounds: the picker's dates are calendar days in Asia/Shanghai. */
const dayStart = (d: Dayjs) => `${d.format('YYYY-MM-DD')}T00:00:00+08:00`;
const nextDayStart = (d: Dayjs) => `${d.add(1, 'day').format('YYYY-MM-DD')}T00:00:00+08:00`;

export function LedgerPage() {
  const catalog = useCatalog();
  const units = useUnits();
  const [filters, setFilters] = useState<Filters>({});
  const [items, setItems] = useState<LedgerItem[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>();

  const load = async (f: Filters, after?: string) => {
    setLoading(true);
    try {
      const [from, to] = f.period ?? [];
      const page = await api.get<{ items: LedgerItem[]; nextCursor: string | null }>('/api/v1/ledger', {
        from: from ? dayStart(from) : undefined,
        to: to ? nextDayStart(to) : undefined,
        kind: f.kind,
        catalogCode: f.catalogCode,
        issuingUnit: f.issuingUnit,
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

  // biome-ignore lint/correctness/useExhaustiveDependencies: loads again when the filters change
  useEffect(() => {
    void load(filters);
  }, [filters]);

  if (isMissingRoute(error)) return <MissingRoute route="GET /api/v1/ledger" />;

  return (
    <div>
      <PageHeader title={t('本单位台账')} />
      <ProblemAlert error={error} onClose={() => setError(undefined)} />
      <Form
        layout="inline"
        style={{ marginBottom: 16, rowGap: 8 }}
        onValuesChange={(_, all: Filters) => setFilters({ ...all })}
      >
        <Form.Item name="period" label={t('记录日期')}>
          <DatePicker.RangePicker allowEmpty={[true, true]} />
        </Form.Item>
        <Form.Item name="kind" label={t('类别')}>
          <Select
            allowClear
            placeholder={t('全部类别')}
            style={{ width: 160 }}
            options={LEDGER_KINDS.map((k) => ({ value: k, label: ledgerLabel(k) }))}
          />
        </Form.Item>
        <Form.Item name="catalogCode" label={t('证明事项')}>
          <Select
            allowClear
            showSearch
            optionFilterProp="label"
            placeholder={t('全部事项')}
            style={{ width: 200 }}
            options={catalog.items.map((c) => ({ value: c.code, label: c.name }))}
          />
        </Form.Item>
        <Form.Item name="issuingUnit" label={t('出具单位')}>
          <Select
            allowClear
            showSearch
            optionFilterProp="label"
            placeholder={t('全部出具单位')}
            style={{ width: 200 }}
            options={units.units.filter((u) => u.canIssue).map((u) => ({ value: u.code, label: u.name }))}
          />
        </Form.Item>
      </Form>
      <Table<LedgerItem>
        data-testid="ledger"
        rowKey="id"
        size="small"
        loading={loading}
        pagination={false}
        dataSource={items}
        scroll={{ x: 900 }}
        locale={{
          emptyText: (
            <EmptyHint
              title={t('台账中没有记录')}
              hint={t('核验结果与申报不一致、需要补正或另行处理时，在协查详情页点击“记录台账”（第八条）。')}
            />
          ),
        }}
        columns={[
          { title: t('记录时间'), dataIndex: 'at', render: (v: string) => fmt(v), width: 150 },
          { title: t('类别'), dataIndex: 'kind', render: (v: string) => ledgerLabel(v), width: 120 },
          {
            title: t('文号'),
            dataIndex: 'docNumber',
            render: (v: string, r) => <Link to={`/cases/${encodeURIComponent(r.caseId)}`}>{v}</Link>,
          },
          {
            title: t('证明事项'),
            dataIndex: 'catalogName',
            render: (v: string | null, r) => v ?? r.catalogCode,
          },
          {
            title: t('出具单位'),
            dataIndex: 'issuingUnitName',
            render: (v: string | null, r) => v ?? r.issuingUnit,
          },
          { title: t('核验对象'), dataIndex: 'subject' },
          {
            title: t('核验结果'),
            dataIndex: 'result',
            render: (v: string | null) => <ResultTag result={v} />,
          },
          { title: t('记录内容'), dataIndex: 'note' },
          { title: t('结果'), dataIndex: 'outcome', render: (v: string | null) => v ?? '—' },
          { title: t('记录人'), dataIndex: 'recordedByName', render: (v: string | null) => v ?? '—' },
        ]}
      />
      {cursor && (
        <div style={{ textAlign: 'center', marginTop: 12 }}>
          <Button loading={loading} onClick={() => void load(filters, cursor)}>
            {t('加载更多')}
          </Button>
        </div>
      )}
    </div>
  );
}
