/**
 * A case list as clerks expect it (the ProTable conventions, with antd's Table and Form): a search bar
 * (文号, 核验对象, 事项, 发起日期, 状态) that maps to the list API's filters, tabs with their counts, "共 N 条" and
 * pages over the keyset cursor, column settings remembered in this browser, export of the current list to
 * Excel (the same filters, by the server), and, for a liaison, row selection with the bulk register and
 * reassign. A table on wide screens, cards on phones; live updates refresh the page on screen.
 */
import { DownloadOutlined, FilterOutlined, SearchOutlined, SettingOutlined } from '@ant-design/icons';
import {
  App,
  Button,
  Checkbox,
  Form,
  Grid,
  Input,
  Modal,
  Pagination,
  Popover,
  Select,
  Space,
  Table,
  Tabs,
  Typography,
} from 'antd';
import type { FormInstance } from 'antd/es/form';
import type { ColumnsType } from 'antd/es/table';
import type { Dayjs } from 'dayjs';
import { memo, type ReactNode, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { api, currentSession, downloadFile } from '../api.ts';
import { CaseCards, DeadlineInForce, ProblemAlert, ResultTag, StatusTag } from '../components.tsx';
import { isNewData, useApi, useCatalog, useUnits } from '../data.ts';
import { DateRangePicker } from '../date-range.tsx';
import { ListEmpty } from '../empty-states.tsx';
import { firstScreenTab, removeFirstScreen } from '../first-screen.ts';
import { t } from '../i18n.ts';
import { statusLabel } from '../labels.ts';
import { useLive } from '../live.ts';
import { Link } from '../router.tsx';
import { slaState } from '../time.ts';
import type { CaseList, CaseSummary, CatalogItem } from '../types.ts';
import {
  FIRST_PAGE_SIZE,
  type ListCounts,
  type ListQuery,
  type ListTab,
  listQuery,
  listRequests,
} from './list-tabs.ts';

type Query = ListQuery;

export interface CaseListProps {
  box: 'inbox' | 'outbox';
  tabs: ListTab[];
  unitField: 'issuingUnit' | 'requestingUnit';
  actions?: (c: CaseSummary, reload: () => void) => ReactNode;
  /** Called with the cases that appeared since the last load (live updates). */
  onNew?: (items: CaseSummary[]) => void;
  /** Row selection with the bulk register / reassign (a liaison's). */
  bulk?: boolean;
  testId: string;
}

interface SearchForm {
  docNumber?: string;
  subject?: string;
  catalogCode?: string;
  period?: [Dayjs | null, Dayjs | null] | null;
  status?: string[];
}

const STATUSES = [
  'awaiting_registration',
  'registered',
  'returned',
  'answered',
  'withdrawn',
  'closed_after_return',
  'offline',
  'applicant_supplied',
  'terminated',
];

/** Beijing-time day bounds: the picker's dates are calendar days in Asia/Shanghai. */
const dayStart = (d: Dayjs) => `${d.format('YYYY-MM-DD')}T00:00:00+08:00`;
const nextDayStart = (d: Dayjs) => `${d.add(1, 'day').format('YYYY-MM-DD')}T00:00:00+08:00`;

/** The search form as the list API's query parameters. */
function searchQuery(f: SearchForm): Query {
  const [from, to] = f.period ?? [];
  return {
    docNumber: f.docNumber?.trim() || undefined,
    subject: f.subject?.trim() || undefined,
    catalogCode: f.catalogCode || undefined,
    createdFrom: from ? dayStart(from) : undefined,
    createdTo: to ? nextDayStart(to) : undefined,
    status: f.status?.length ? f.status.join(',') : undefined,
  };
}

const COLUMNS_KEY = (list: string) => `xiecha.columns.${list}`;

/** The columns a person switched off in this list, remembered in this browser. */
function useHiddenColumns(list: string): [Set<string>, (next: Set<string>) => void] {
  const [hidden, setHidden] = useState<Set<string>>(() => {
    try {
      const raw = localStorage.getItem(COLUMNS_KEY(list));
      return new Set(raw ? (JSON.parse(raw) as string[]) : []);
    } catch {
      return new Set();
    }
  });
  const save = (next: Set<string>) => {
    setHidden(next);
    try {
      localStorage.setItem(COLUMNS_KEY(list), JSON.stringify([...next]));
    } catch {
      // private mode: the choice lasts for this page only
    }
  };
  return [hidden, save];
}

interface BulkOutcome {
  state: 'running' | 'completed';
  total: number;
  done: number;
  results: { id: string; outcome: 'ok' | 'refused'; detail?: string }[];
}

/**
 * The search bar. It renders again only when its own inputs change (the catalog's arrival, the phone's 筛选
 * toggle), not on every refresh of the list below it: its selects and date-range picker are the costliest
 * part of a list's render on a slow CPU.
 */
const SearchBar = memo(function SearchBar({
  form,
  testId,
  hidden,
  catalog,
  onSearch,
}: {
  form: FormInstance<SearchForm>;
  testId: string;
  hidden: boolean;
  catalog: CatalogItem[];
  onSearch: (q: Query) => void;
}) {
  return (
    <Form<SearchForm>
      form={form}
      name={`${testId}-search`}
      layout="inline"
      className="list-search"
      style={hidden ? { display: 'none' } : undefined}
      aria-label={t('查询条件')}
      onFinish={(v) => onSearch(searchQuery(v))}
    >
      <Form.Item name="docNumber" label={t('文号')}>
        <Input allowClear placeholder={t('文号或其中几位')} style={{ width: 170 }} />
      </Form.Item>
      <Form.Item name="subject" label={t('核验对象')}>
        <Input allowClear placeholder={t('姓氏或证件号末四位')} style={{ width: 160 }} />
      </Form.Item>
      <Form.Item name="catalogCode" label={t('事项')}>
        <Select
          allowClear
          showSearch={{ optionFilterProp: 'label' }}
          placeholder={t('全部')}
          style={{ width: 200 }}
          options={catalog.map((c) => ({ value: c.code, label: c.name }))}
        />
      </Form.Item>
      <Form.Item name="period" label={t('发起日期')}>
        <DateRangePicker allowEmpty={[true, true]} style={{ width: 250 }} />
      </Form.Item>
      <Form.Item name="status" label={t('状态')}>
        <Select
          mode="multiple"
          allowClear
          maxTagCount="responsive"
          placeholder={t('全部')}
          style={{ width: 200 }}
          options={STATUSES.map((s) => ({ value: s, label: statusLabel(s) }))}
        />
      </Form.Item>
      <Form.Item>
        <Space>
          <Button type="primary" htmlType="submit" icon={<SearchOutlined />}>
            {t('查询')}
          </Button>
          <Button
            onClick={() => {
              form.resetFields();
              onSearch({});
            }}
          >
            {t('重置')}
          </Button>
        </Space>
      </Form.Item>
    </Form>
  );
});

export function CaseListView({ box, tabs, unitField, actions, onNew, bulk, testId }: CaseListProps) {
  const { message, modal } = App.useApp();
  const units = useUnits();
  const catalog = useCatalog();
  const screens = Grid.useBreakpoint();
  const [form] = Form.useForm<SearchForm>();
  // The tab a person chose on the first screen (first-screen.ts), if this list opens behind one.
  const [tab, setTab] = useState(() => firstScreenTab(box) ?? tabs[0]?.key ?? '');
  const [search, setSearch] = useState<Query>({});
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(FIRST_PAGE_SIZE);
  const [items, setItems] = useState<CaseSummary[]>([]);
  const [total, setTotal] = useState(0);
  const [counts, setCounts] = useState<ListCounts>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>();
  /** The query whose answer (rows or error) is on screen. */
  const [shownFor, setShownFor] = useState<string>();
  const [exporting, setExporting] = useState(false);
  const [selected, setSelected] = useState<string[]>([]);
  const [bulkBusy, setBulkBusy] = useState(false);
  const [reassignTo, setReassignTo] = useState<string>();
  const [reassignOpen, setReassignOpen] = useState(false);
  const [hidden, setHidden] = useHiddenColumns(testId);
  // On a phone the search bar folds away behind 筛选 (it would push the list off the first screen).
  const phone = screens.md === false;
  const [searchShown, setSearchShown] = useState(false);
  const activeFilters = Object.values(search).filter((v) => v !== undefined).length;

  const current = tabs.find((x) => x.key === tab) ?? tabs[0];
  const query: Query = useMemo(() => listQuery(box, current, search), [box, current, search]);
  const key = JSON.stringify([query, pageSize]);
  // Cases already seen in this list: only the others are announced as new.
  const known = useRef(new Set<string>());
  const loadedKey = useRef(key);
  loadedKey.current = key;
  // The keyset cursor that starts each page (page 1 starts at the beginning), for this query.
  const cursors = useRef(new Map<number, string | undefined>([[1, undefined]]));

  const session = currentSession();
  const colleagues = useApi<{ items: { id: string; displayName: string; role: string; active: boolean }[] }>(
    bulk && session ? `/api/v1/units/${encodeURIComponent(session.staff.unitCode)}/staff` : undefined,
  );

  /** The cursor of page `p`, walking from the last page whose cursor is known. */
  const cursorOf = async (p: number): Promise<string | undefined | null> => {
    let from = p;
    while (from > 1 && !cursors.current.has(from)) from -= 1;
    let cursor = cursors.current.get(from);
    for (let q = from; q < p; q += 1) {
      const r = await api.get<CaseList>('/api/v1/verifications', { ...query, cursor, limit: pageSize });
      if (!r.nextCursor) return null;
      cursor = r.nextCursor;
      cursors.current.set(q + 1, cursor);
    }
    return cursor;
  };

  /** What the list shows (page, cases, counts), to tell whether a live refresh changed anything. */
  const shown = useRef<string>(undefined);
  const load = async (p: number, quiet: boolean) => {
    if (!quiet) setLoading(true);
    try {
      const cursor = await cursorOf(p);
      if (cursor === null) {
        // Fewer pages than before (cases left the list): show the first.
        if (p > 1) setPage(1);
        return;
      }
      const asked = listRequests(box, query, search, cursor, pageSize);
      const [r, c] = await Promise.all([
        api.get<CaseList & { total?: number }>(...asked.page),
        api.get<ListCounts>(...asked.counts).catch(() => undefined),
      ]);
      if (loadedKey.current !== key) return; // the filters changed meanwhile
      // A live refresh that brings nothing new leaves the screen as it is (no new render of the table).
      if (!isNewData(shown, [p, r, c]) && quiet) return;
      if (r.nextCursor) cursors.current.set(p + 1, r.nextCursor);
      else for (const k of [...cursors.current.keys()]) if (k > p) cursors.current.delete(k);
      const fresh = r.items.filter((i) => !known.current.has(i.id));
      for (const i of r.items) known.current.add(i.id);
      if (quiet && fresh.length && onNew) onNew(fresh);
      setItems(r.items);
      setTotal(r.total ?? r.items.length);
      if (c) setCounts(c);
      setSelected((prev) => prev.filter((id) => r.items.some((i) => i.id === id)));
      setError(undefined);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
      setShownFor(key);
    }
  };

  // A new query starts again on page 1 with no cursor known; a new page loads that page.
  const shownKey = useRef<string>(undefined);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for the query
  useEffect(() => {
    if (shownKey.current !== key) {
      shownKey.current = key;
      cursors.current = new Map([[1, undefined]]);
      setSelected([]);
      if (page !== 1) {
        setPage(1);
        return;
      }
    }
    void load(page, false);
  }, [key, page]);

  // A first screen stays until this list shows its answer for the tab chosen there (it may change while
  // this page renders), then goes in the same frame.
  useLayoutEffect(() => {
    const chosen = firstScreenTab(box);
    if (chosen === undefined) return;
    if (chosen !== tab && tabs.some((x) => x.key === chosen)) setTab(chosen);
    else if (shownFor === key) removeFirstScreen();
  });

  useLive(() => void load(page, true));
  const reload = () => void load(page, true);

  const exportList = async () => {
    setExporting(true);
    try {
      const name = await downloadFile('/api/v1/verifications/export.xlsx', query, '协查列表.xlsx');
      void message.success(`${t('已导出')}：${name}`);
    } catch (e) {
      void message.error((e as Error).message);
    } finally {
      setExporting(false);
    }
  };

  const runBulk = async (action: 'register' | 'reassign', body: Record<string, unknown>) => {
    setBulkBusy(true);
    try {
      const r = await api.post<BulkOutcome>(`/api/v1/verifications/bulk/${action}`, {
        ids: selected,
        ...body,
      });
      const ok = r.results.filter((x) => x.outcome === 'ok').length;
      const refused = r.results.filter((x) => x.outcome === 'refused');
      const doneText = action === 'register' ? t('已登记受理') : t('已转派');
      if (r.state === 'running') void message.info(t('正在批量办理，稍后刷新列表查看结果'));
      else if (refused.length)
        modal.warning({
          title: `${doneText} ${ok} ${t('件')}，${t('未办理')} ${refused.length} ${t('件')}`,
          content: (
            <ul>
              {refused.map((x) => (
                <li key={x.id}>
                  {items.find((i) => i.id === x.id)?.docNumber ?? x.id}：{x.detail ?? t('未办理')}
                </li>
              ))}
            </ul>
          ),
        });
      else void message.success(`${doneText} ${ok} ${t('件')}`);
      setSelected([]);
      setReassignOpen(false);
      setReassignTo(undefined);
      reload();
    } catch (e) {
      void message.error((e as Error).message);
    } finally {
      setBulkBusy(false);
    }
  };

  const labels = new Map<string, string>();
  const colTitle = (text: string, key: string) => {
    labels.set(key, text);
    return <span className="col-title">{text}</span>;
  };
  const allColumns: ColumnsType<CaseSummary> = [
    {
      key: 'docNumber',
      title: colTitle(t('文号'), 'docNumber'),
      dataIndex: 'docNumber',
      render: (v: string, c) => (
        <Link to={`/cases/${encodeURIComponent(c.id)}`} className="doc-link">
          {v}
        </Link>
      ),
    },
    {
      key: 'catalog',
      title: colTitle(t('事项'), 'catalog'),
      dataIndex: 'catalogName',
      render: (v: string | null, c) => v ?? c.catalogCode,
    },
    { key: 'subject', title: colTitle(t('核验对象'), 'subject'), dataIndex: 'subject' },
    {
      key: 'unit',
      title: colTitle(unitField === 'issuingUnit' ? t('出具单位') : t('需求单位'), 'unit'),
      dataIndex: unitField,
      render: (v: string) => units.name(v),
    },
    {
      key: 'status',
      title: colTitle(t('状态'), 'status'),
      dataIndex: 'status',
      render: (v: string) => <StatusTag status={v} />,
    },
    {
      key: 'due',
      title: colTitle(t('办理时限'), 'due'),
      dataIndex: 'dueAt',
      render: (_v: string, c) => <DeadlineInForce c={c} />,
    },
    {
      key: 'assignee',
      title: colTitle(t('经办人'), 'assignee'),
      dataIndex: 'assigneeName',
      render: (v: string | null | undefined) =>
        v ?? <Typography.Text type="secondary">{t('未认领')}</Typography.Text>,
    },
    {
      key: 'result',
      title: colTitle(t('结果'), 'result'),
      dataIndex: 'result',
      render: (v: string | null) => <ResultTag result={v} />,
    },
  ];
  if (actions)
    allColumns.push({
      key: 'actions',
      title: colTitle(t('操作'), 'actions'),
      fixed: 'right',
      render: (_v, c) => <div className="row-actions">{actions(c, reload)}</div>,
    });
  const columns = allColumns.filter((c) => !hidden.has(String(c.key)));
  const choosable = allColumns.filter((c) => c.key !== 'docNumber');

  const columnSettings = (
    <div data-testid="column-settings">
      {choosable.map((c) => {
        const k = String(c.key);
        return (
          <div key={k}>
            <Checkbox
              checked={!hidden.has(k)}
              onChange={(e) => {
                const next = new Set(hidden);
                if (e.target.checked) next.delete(k);
                else next.add(k);
                setHidden(next);
              }}
            >
              {labels.get(k) ?? k}
            </Checkbox>
          </div>
        );
      })}
      <Button size="small" type="link" style={{ padding: 0 }} onClick={() => setHidden(new Set())}>
        {t('恢复默认')}
      </Button>
    </div>
  );

  const countOf = (x: ListTab) => (counts ? counts[x.count] : undefined);

  return (
    <div data-testid={testId} className="case-list">
      <SearchBar
        form={form}
        testId={testId}
        hidden={phone && !searchShown}
        catalog={catalog.items}
        onSearch={setSearch}
      />

      <div className="list-toolbar">
        <Tabs
          activeKey={tab}
          onChange={setTab}
          items={tabs.map((x) => ({
            key: x.key,
            label: (
              <span data-tab={x.key}>
                {t(x.label)}
                <span className="tab-count" data-count={countOf(x) ?? ''}>
                  {countOf(x) ?? '…'}
                </span>
              </span>
            ),
          }))}
        />
        <Space className="list-tools" wrap>
          {phone && (
            <Button
              icon={<FilterOutlined />}
              aria-expanded={searchShown}
              onClick={() => setSearchShown((v) => !v)}
            >
              {searchShown ? t('收起筛选') : t('筛选')}
              {activeFilters ? `（${activeFilters}）` : ''}
            </Button>
          )}
          <Typography.Text type="secondary" data-testid="list-total">
            {t('共 {n} 条', { n: total })}
          </Typography.Text>
          <Button icon={<DownloadOutlined />} loading={exporting} onClick={() => void exportList()}>
            {t('导出 Excel')}
          </Button>
          {!phone && (
            <Popover trigger="click" placement="bottomRight" title={t('显示的列')} content={columnSettings}>
              <Button icon={<SettingOutlined />} aria-label={t('列设置')}>
                {t('列设置')}
              </Button>
            </Popover>
          )}
        </Space>
      </div>

      {bulk && selected.length > 0 && (
        <div className="bulk-bar" data-testid="bulk-bar">
          <Typography.Text>{t('已选 {n} 项', { n: selected.length })}</Typography.Text>
          <Button type="primary" size="small" loading={bulkBusy} onClick={() => void runBulk('register', {})}>
            {t('批量登记受理')}
          </Button>
          <Button size="small" onClick={() => setReassignOpen(true)}>
            {t('批量转派')}
          </Button>
          <Button size="small" type="link" onClick={() => setSelected([])}>
            {t('取消选择')}
          </Button>
        </div>
      )}

      <ProblemAlert error={error} />
      {screens.md === false ? (
        <>
          <CaseCards
            items={items}
            unitField={unitField}
            actions={actions ? (c) => actions(c, reload) : undefined}
            empty={loading ? undefined : <ListEmpty list={testId} query={query} />}
          />
          <Pagination
            simple
            style={{ marginTop: 12, textAlign: 'center' }}
            current={page}
            pageSize={pageSize}
            total={total}
            onChange={(p) => setPage(p)}
          />
        </>
      ) : (
        <Table<CaseSummary>
          rowKey="id"
          size="middle"
          className="case-table"
          loading={loading}
          columns={columns}
          dataSource={items}
          tableLayout="auto"
          rowSelection={
            bulk
              ? {
                  selectedRowKeys: selected,
                  onChange: (keys) => setSelected(keys.map(String)),
                }
              : undefined
          }
          pagination={{
            current: page,
            pageSize,
            total,
            showSizeChanger: true,
            pageSizeOptions: [10, 20, 50, 100],
            showTotal: (n) => t('共 {n} 条', { n }),
            onChange: (p, size) => {
              if (size !== pageSize) setPageSize(size);
              else setPage(p);
            },
          }}
          rowClassName={(c) => `sla-row sla-${slaState(c).kind}`}
          scroll={{ x: 'max-content' }}
          locale={{ emptyText: <ListEmpty list={testId} query={query} /> }}
        />
      )}
      <Typography.Paragraph type="secondary" style={{ marginTop: 12, fontSize: 12 }}>
        {t(
          '按办理时限排序。剩余时间为工作时间的近似值（工作日 09:00–12:00、13:30–17:30）；时限以系统计算为准。',
        )}
      </Typography.Paragraph>

      <Modal
        title={t('批量转派')}
        open={reassignOpen}
        okText={t('转派')}
        okButtonProps={{ disabled: !reassignTo, loading: bulkBusy }}
        onOk={() => void runBulk('reassign', { toStaffId: reassignTo })}
        onCancel={() => setReassignOpen(false)}
      >
        <Typography.Paragraph>
          {t('将已选的 {n} 件转派给本单位的', { n: selected.length })}
        </Typography.Paragraph>
        <Select
          aria-label={t('经办人')}
          style={{ width: '100%' }}
          placeholder={t('请选择')}
          value={reassignTo}
          onChange={setReassignTo}
          options={(colleagues.data?.items ?? [])
            .filter((s) => s.active && (s.role === 'agent' || s.role === 'liaison'))
            .map((s) => ({ value: s.id, label: s.displayName }))}
        />
      </Modal>
    </div>
  );
}
