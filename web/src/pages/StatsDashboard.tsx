/**
 * 考核统计: the joint-meeting office's assessment figures (Art. 13) for a period of Beijing calendar dates,
 * optionally one tier and one unit: KPI cards (on-time rate, overdue now, median time to answer), the
 * ranking of issuing units for 通报, the daily trend, and overdue cases by unit × tier; the same figures as
 * units.xlsx / units.csv with the filters on screen. Aggregates carry no personal data, so every case
 * counts (not only escalated ones). The charts' module (ECharts) loads on its own, after the figures.
 */
import { DownloadOutlined } from '@ant-design/icons';
import {
  Button,
  Card,
  Col,
  DatePicker,
  Empty,
  Row,
  Segmented,
  Select,
  Space,
  Spin,
  Statistic,
  Table,
  Tag,
  Typography,
} from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { lazy, Suspense, useMemo, useState } from 'react';
import { downloadFile, isMissingRoute } from '../api.ts';
import { MissingRoute, PageHeader, ProblemAlert } from '../components.tsx';
import { useApi, useUnits } from '../data.ts';
import { t } from '../i18n.ts';
import { TIERS, tierShortLabel } from '../labels.ts';
import { fmt } from '../time.ts';
import type { IssuingStats, RankingRow, TrendStats, UnitsStats } from '../types.ts';

const TrendChart = lazy(() => import('./StatsCharts.tsx').then((m) => ({ default: m.TrendChart })));
const OverdueHeatMap = lazy(() => import('./StatsCharts.tsx').then((m) => ({ default: m.OverdueHeatMap })));

export type PeriodKind = 'day' | 'week' | 'month' | 'quarter' | 'year' | 'custom';

const KINDS: { value: PeriodKind; label: string }[] = [
  { value: 'day', label: '日' },
  { value: 'week', label: '周' },
  { value: 'month', label: '月' },
  { value: 'quarter', label: '季' },
  { value: 'year', label: '年' },
  { value: 'custom', label: '自定义' },
];

/** Today's date in Beijing, whatever the browser's time zone. */
const todayBeijing = (): Dayjs => dayjs(fmt(new Date()).slice(0, 10));
const DATE = 'YYYY-MM-DD';

/**
 * The period's first and last Beijing dates (inclusive), never beyond today: weeks run Monday to Sunday,
 * quarters are calendar quarters.
 */
export function periodRange(
  kind: PeriodKind,
  anchor: Dayjs,
  custom?: [Dayjs, Dayjs],
): { from: string; to: string } {
  let start: Dayjs;
  let end: Dayjs;
  switch (kind) {
    case 'day':
      start = anchor;
      end = anchor;
      break;
    case 'week':
      start = anchor.subtract((anchor.day() + 6) % 7, 'day');
      end = start.add(6, 'day');
      break;
    case 'month':
      start = anchor.startOf('month');
      end = anchor.endOf('month');
      break;
    case 'quarter':
      start = anchor.month(Math.floor(anchor.month() / 3) * 3).startOf('month');
      end = start.add(2, 'month').endOf('month');
      break;
    case 'year':
      start = anchor.startOf('year');
      end = anchor.endOf('year');
      break;
    default:
      [start, end] = custom ?? [anchor, anchor];
  }
  const today = todayBeijing();
  if (end.isAfter(today, 'day')) end = today;
  if (start.isAfter(end, 'day')) start = end;
  return { from: start.format(DATE), to: end.format(DATE) };
}

export const percent = (r: number | null | undefined): string =>
  r === null || r === undefined ? '—' : `${(r * 100).toFixed(1)}%`;

/** Working minutes as `3 小时 20 分钟`. */
export function workingDuration(minutes: number | null | undefined): string {
  if (minutes === null || minutes === undefined) return '—';
  const m = Math.round(minutes);
  if (m < 60) return t('{m} 分钟', { m });
  const h = Math.floor(m / 60);
  return m % 60 ? t('{h} 小时 {m} 分钟', { h, m: m % 60 }) : t('{h} 小时', { h });
}

const rateColor = (r: number | null) =>
  r === null ? 'default' : r >= 0.95 ? 'green' : r >= 0.8 ? 'orange' : 'red';

type RankingView = RankingRow & Partial<IssuingStats>;

export default function StatsDashboardPage() {
  const units = useUnits();
  const [kind, setKind] = useState<PeriodKind>('month');
  const [anchor, setAnchor] = useState<Dayjs>(todayBeijing);
  const [custom, setCustom] = useState<[Dayjs, Dayjs]>();
  const [tier, setTier] = useState<string>();
  const [unit, setUnit] = useState<string>();
  const [exporting, setExporting] = useState<string>();
  const [exportError, setExportError] = useState<unknown>();

  const { from, to } = periodRange(kind, anchor, custom);
  const query = useMemo(() => ({ from, to, tier, unit }), [from, to, tier, unit]);
  const stats = useApi<UnitsStats>('/api/v1/stats/units', query);
  const trend = useApi<TrendStats>('/api/v1/stats/trend', query);

  const ranking: RankingView[] = useMemo(() => {
    const byUnit = new Map((stats.data?.issuing ?? []).map((r) => [r.unitId, r]));
    return (stats.data?.ranking ?? []).map((r) => ({ ...byUnit.get(r.unitId), ...r }));
  }, [stats.data]);

  const exportFile = async (ext: 'xlsx' | 'csv') => {
    setExporting(ext);
    setExportError(undefined);
    try {
      await downloadFile(`/api/v1/stats/units.${ext}`, query, `考核统计-${from}-${to}.${ext}`);
    } catch (e) {
      setExportError(e);
    } finally {
      setExporting(undefined);
    }
  };

  if (isMissingRoute(stats.error)) return <MissingRoute route="GET /api/v1/stats/units" />;

  const data = stats.data;
  const empty = data !== undefined && data.city.received === 0 && data.city.overdueNow === 0;
  const disabledDate = (d: Dayjs) => d.isAfter(todayBeijing(), 'day');

  return (
    <div data-testid="stats-dashboard">
      <PageHeader
        title={t('考核统计')}
        extra={
          <>
            <Button
              icon={<DownloadOutlined />}
              loading={exporting === 'xlsx'}
              onClick={() => void exportFile('xlsx')}
            >
              {t('导出 Excel')}
            </Button>
            <Button
              icon={<DownloadOutlined />}
              loading={exporting === 'csv'}
              onClick={() => void exportFile('csv')}
            >
              {t('导出 CSV')}
            </Button>
          </>
        }
      />
      <ProblemAlert error={exportError} onClose={() => setExportError(undefined)} />
      <ProblemAlert error={stats.error ?? (isMissingRoute(trend.error) ? undefined : trend.error)} />

      <Space wrap size={[12, 8]} style={{ marginBottom: 16 }} role="search" aria-label={t('统计条件')}>
        <Segmented<PeriodKind>
          aria-label={t('统计期间')}
          value={kind}
          options={KINDS.map((k) => ({ value: k.value, label: t(k.label) }))}
          onChange={(k) => {
            setKind(k);
            if (k === 'custom' && !custom) {
              const r = periodRange('month', anchor);
              setCustom([dayjs(r.from), dayjs(r.to)]);
            }
          }}
        />
        {kind === 'custom' ? (
          <DatePicker.RangePicker
            aria-label={t('自定义期间')}
            allowClear={false}
            value={custom}
            disabledDate={disabledDate}
            onChange={(v) => v?.[0] && v[1] && setCustom([v[0], v[1]])}
          />
        ) : (
          <DatePicker
            aria-label={t('选择期间')}
            allowClear={false}
            picker={kind === 'day' ? 'date' : kind}
            value={anchor}
            disabledDate={disabledDate}
            onChange={(d) => d && setAnchor(d)}
          />
        )}
        <Select
          aria-label={t('时限档次')}
          id="stats-tier"
          allowClear
          placeholder={t('全部时限档次')}
          style={{ width: 160 }}
          value={tier}
          onChange={(v) => setTier(v)}
          options={TIERS.map((k) => ({ value: k, label: tierShortLabel(k) }))}
        />
        <Select
          aria-label={t('单位')}
          id="stats-unit"
          allowClear
          showSearch
          optionFilterProp="label"
          placeholder={t('全部单位')}
          style={{ width: 240 }}
          value={unit}
          onChange={(v) => setUnit(v)}
          options={units.units
            .filter((u) => u.kind !== 'office')
            .map((u) => ({ value: u.code, label: u.name }))}
        />
        <Typography.Text type="secondary" data-testid="stats-period">
          {t('统计期间：{from} 至 {to}（北京时间，按收到协查的日期）', { from, to })}
        </Typography.Text>
      </Space>

      {stats.loading && !data ? (
        <Spin />
      ) : empty ? (
        <Card data-testid="stats-empty">
          <Empty
            description={
              <span>
                {t('{from} 至 {to} 没有符合条件的协查。', { from, to })}
                <br />
                {t('请扩大统计期间（如选择“年”或自定义），或清除时限档次、单位筛选后再查看。')}
              </span>
            }
          >
            <Button
              onClick={() => {
                setTier(undefined);
                setUnit(undefined);
                setKind('year');
              }}
            >
              {t('查看本年全部单位')}
            </Button>
          </Empty>
        </Card>
      ) : data ? (
        <>
          <Row gutter={[16, 16]} style={{ marginBottom: 16 }}>
            <Col xs={24} sm={12} lg={6}>
              <Card size="small" data-testid="kpi-ontime">
                <Statistic title={t('按时办结率')} value={percent(data.city.onTimeRate)} />
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {t('按时 {a} 件，逾期 {b} 件', { a: data.city.answeredOnTime, b: data.city.answeredLate })}
                </Typography.Text>
              </Card>
            </Col>
            <Col xs={24} sm={12} lg={6}>
              <Card size="small" data-testid="kpi-overdue">
                <Statistic
                  title={t('当前超期')}
                  value={data.city.overdueNow}
                  suffix={t('件')}
                  styles={{ content: { color: data.city.overdueNow ? '#cf1322' : undefined } }}
                />
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {t('已过时限仍未反馈')}
                </Typography.Text>
              </Card>
            </Col>
            <Col xs={24} sm={12} lg={6}>
              <Card size="small" data-testid="kpi-median">
                <Statistic
                  title={t('办理用时中位数')}
                  value={workingDuration(data.city.answerMinutes.median)}
                />
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {t('工作时间，自收到至反馈，全市合并')}
                </Typography.Text>
              </Card>
            </Col>
            <Col xs={24} sm={12} lg={6}>
              <Card size="small" data-testid="kpi-received">
                <Statistic title={t('受理量')} value={data.city.received} suffix={t('件')} />
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {t('期间内收到的协查')}
                </Typography.Text>
              </Card>
            </Col>
          </Row>

          <Card title={t('通报排名（按时办结率）')} size="small" style={{ marginBottom: 16 }}>
            <Table<RankingView>
              data-testid="stats-ranking"
              size="small"
              rowKey="unitId"
              pagination={false}
              dataSource={ranking}
              scroll={{ x: 760 }}
              locale={{ emptyText: t('期间内没有单位收到协查') }}
              columns={[
                { title: t('名次'), dataIndex: 'rank', width: 64, align: 'right' },
                { title: t('出具单位'), dataIndex: 'unitName' },
                {
                  title: t('按时办结率'),
                  dataIndex: 'onTimeRate',
                  align: 'right',
                  render: (v: number | null) => <Tag color={rateColor(v)}>{percent(v)}</Tag>,
                },
                { title: t('受理量'), dataIndex: 'received', align: 'right' },
                {
                  title: t('按时办结'),
                  dataIndex: 'answeredOnTime',
                  align: 'right',
                  render: (v) => v ?? '—',
                },
                { title: t('逾期办结'), dataIndex: 'answeredLate', align: 'right', render: (v) => v ?? '—' },
                { title: t('当前超期'), dataIndex: 'overdueNow', align: 'right', render: (v) => v ?? '—' },
                {
                  title: t('办理用时中位数'),
                  key: 'median',
                  align: 'right',
                  render: (_, r) => workingDuration(r.answerMinutes?.median),
                },
              ]}
            />
          </Card>

          <Row gutter={[16, 16]}>
            <Col xs={24} xl={14}>
              <Card title={t('每日受理量与按时办结率')} size="small">
                {trend.data ? (
                  <Suspense fallback={<Spin />}>
                    <TrendChart days={trend.data.days} />
                  </Suspense>
                ) : (
                  <Spin spinning={trend.loading} />
                )}
              </Card>
            </Col>
            <Col xs={24} xl={10}>
              <Card title={t('当前超期分布（单位 × 时限档次）')} size="small">
                {data.issuing.length ? (
                  <Suspense fallback={<Spin />}>
                    <OverdueHeatMap rows={data.issuing} />
                  </Suspense>
                ) : (
                  <Empty description={t('暂无数据')} image={Empty.PRESENTED_IMAGE_SIMPLE} />
                )}
              </Card>
            </Col>
          </Row>
          <Typography.Paragraph type="secondary" style={{ marginTop: 12, fontSize: 12 }}>
            {t(
              '统计口径：协查按收到日期（北京时间）计入期间；用时为工作时间；按时办结率 = 按时反馈 ÷（按时反馈 + 逾期反馈）。统计数据不含个人信息，涵盖全部协查（第十三条）。',
            )}
          </Typography.Paragraph>
        </>
      ) : null}
    </div>
  );
}
