/** A list of cases as a table (wide screens) or cards (phones), with "load more" over the cursor. */
import { Button, Grid, Table, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { type ReactNode, useEffect, useRef, useState } from 'react';
import { ApiError, api } from '../api.ts';
import { CaseCards, DeadlineInForce, ProblemAlert, ResultTag, StatusTag } from '../components.tsx';
import { useUnits } from '../data.ts';
import { ListEmpty } from '../empty-states.tsx';
import { t } from '../i18n.ts';
import { useLive } from '../live.ts';
import { Link } from '../router.tsx';
import { slaState } from '../time.ts';
import type { CaseList, CaseSummary } from '../types.ts';

export interface CaseListProps {
  query: Record<string, string | number | boolean | undefined>;
  unitField: 'issuingUnit' | 'requestingUnit';
  actions?: (c: CaseSummary, reload: () => void) => ReactNode;
  /** Called with the ids of cases that appeared since the last load (live updates). */
  onNew?: (items: CaseSummary[]) => void;
  testId: string;
}

export function CaseListView({ query, unitField, actions, onNew, testId }: CaseListProps) {
  const units = useUnits();
  const screens = Grid.useBreakpoint();
  const [items, setItems] = useState<CaseSummary[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>();
  const key = JSON.stringify(query);
  // Cases already seen in this list: only the others are announced as new.
  const known = useRef(new Set<string>());
  const loadedKey = useRef(key);
  loadedKey.current = key;

  const load = async (quiet: boolean) => {
    if (!quiet) setLoading(true);
    try {
      // Keep as many rows as are on screen when refreshing live.
      const limit = Math.max(50, Math.min(200, items.length));
      const r = await api.get<CaseList>('/api/v1/verifications', { ...query, limit });
      if (loadedKey.current !== key) return; // the filters changed meanwhile
      const fresh = r.items.filter((i) => !known.current.has(i.id));
      for (const i of r.items) known.current.add(i.id);
      if (quiet && fresh.length && onNew) onNew(fresh);
      setItems(r.items);
      setCursor(r.nextCursor);
      setError(undefined);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  };

  // biome-ignore lint/correctness/useExhaustiveDependencies: reload when the filters change
  useEffect(() => {
    setItems([]);
    void load(false);
  }, [key]);

  useLive(() => void load(true));

  const more = async () => {
    if (!cursor) return;
    try {
      const r = await api.get<CaseList>('/api/v1/verifications', { ...query, cursor, limit: 50 });
      setItems((prev) => [...prev, ...r.items.filter((i) => !prev.some((p) => p.id === i.id))]);
      setCursor(r.nextCursor);
    } catch (e) {
      setError(e instanceof ApiError ? e : undefined);
    }
  };

  const reload = () => void load(true);
  const columns: ColumnsType<CaseSummary> = [
    {
      title: t('文号'),
      dataIndex: 'docNumber',
      render: (v: string, c) => (
        <Link to={`/cases/${encodeURIComponent(c.id)}`} className="doc-link">
          {v}
        </Link>
      ),
    },
    { title: t('事项'), dataIndex: 'catalogName', render: (v: string | null, c) => v ?? c.catalogCode },
    { title: t('核验对象'), dataIndex: 'subject' },
    {
      title: unitField === 'issuingUnit' ? t('出具单位') : t('需求单位'),
      dataIndex: unitField,
      render: (v: string) => units.name(v),
    },
    { title: t('状态'), dataIndex: 'status', render: (v: string) => <StatusTag status={v} /> },
    {
      title: t('办理时限'),
      dataIndex: 'dueAt',
      render: (_v: string, c) => <DeadlineInForce c={c} />,
    },
    { title: t('结果'), dataIndex: 'result', render: (v: string | null) => <ResultTag result={v} /> },
  ];
  if (actions) columns.push({ title: t('操作'), key: 'actions', render: (_v, c) => actions(c, reload) });

  return (
    <div data-testid={testId}>
      <ProblemAlert error={error} />
      {screens.md === false ? (
        <CaseCards
          items={items}
          unitField={unitField}
          actions={actions ? (c) => actions(c, reload) : undefined}
          empty={loading ? undefined : <ListEmpty list={testId} query={query} />}
        />
      ) : (
        <Table<CaseSummary>
          rowKey="id"
          size="middle"
          loading={loading}
          columns={columns}
          dataSource={items}
          pagination={false}
          rowClassName={(c) => `sla-row sla-${slaState(c).kind}`}
          scroll={{ x: 900 }}
          locale={{ emptyText: <ListEmpty list={testId} query={query} /> }}
        />
      )}
      {cursor && (
        <div style={{ textAlign: 'center', marginTop: 12 }}>
          <Button onClick={() => void more()}>{t('加载更多')}</Button>
        </div>
      )}
      <Typography.Paragraph type="secondary" style={{ marginTop: 12, fontSize: 12 }}>
        {t(
          '按办理时限排序。剩余时间为工作时间的近似值（工作日 09:00–12:00、13:30–17:30）；时限以系统计算为准。',
        )}
      </Typography.Paragraph>
    </div>
  );
}
