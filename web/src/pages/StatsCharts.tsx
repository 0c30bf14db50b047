/**
 * The assessment dashboard's charts (Apache ECharts): the daily trend and the overdue heat map. This module
 * is loaded only when the dashboard shows a chart (React.lazy), so neither the clerks' first load nor the
 * dashboard's figures wait for ECharts.
 */
import { HeatmapChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';
import { t } from '../i18n.ts';
import { TIERS, tierShortLabel } from '../labels.ts';
import type { IssuingStats, TrendDay } from '../types.ts';

echarts.use([
  LineChart,
  HeatmapChart,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  VisualMapComponent,
  CanvasRenderer,
]);

const pct = (r: number | null) => (r === null ? null : Math.round(r * 1000) / 10);

function EChart({
  option,
  label,
  height,
  testId,
}: {
  option: echarts.EChartsCoreOption;
  label: string;
  height: number;
  testId: string;
}) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts>(undefined);
  useEffect(() => {
    if (!el.current) return;
    chart.current = echarts.init(el.current, undefined, { renderer: 'canvas' });
    const resize = () => chart.current?.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.current?.dispose();
    };
  }, []);
  useEffect(() => {
    chart.current?.setOption(option, true);
    chart.current?.resize();
  }, [option]);
  return (
    <div ref={el} role="img" aria-label={label} data-testid={testId} style={{ width: '100%', height }} />
  );
}

/** Received, answered and the on-time rate per day (Beijing dates). */
export function TrendChart({ days }: { days: TrendDay[] }) {
  const received = t('受理量');
  const answered = t('办结量');
  const rate = t('按时办结率');
  const option: echarts.EChartsCoreOption = {
    animation: false,
    tooltip: { trigger: 'axis' },
    legend: { data: [received, answered, rate], top: 0 },
    grid: { left: 8, right: 8, bottom: 8, top: 40, containLabel: true },
    xAxis: { type: 'category', data: days.map((d) => d.date.slice(5)) },
    yAxis: [
      { type: 'value', name: t('件'), minInterval: 1 },
      { type: 'value', name: '%', min: 0, max: 100, axisLabel: { formatter: '{value}%' } },
    ],
    series: [
      { name: received, type: 'line', data: days.map((d) => d.received), itemStyle: { color: '#1677ff' } },
      { name: answered, type: 'line', data: days.map((d) => d.answered), itemStyle: { color: '#8c8c8c' } },
      {
        name: rate,
        type: 'line',
        yAxisIndex: 1,
        connectNulls: true,
        data: days.map((d) => pct(d.onTimeRate)),
        itemStyle: { color: '#389e0d' },
        tooltip: { valueFormatter: (v: unknown) => (typeof v === 'number' ? `${v}%` : '—') },
      },
    ],
  };
  const label = days
    .map(
      (d) =>
        `${d.date}：${received} ${d.received}，${answered} ${d.answered}，${rate} ${
          d.onTimeRate === null ? '—' : `${pct(d.onTimeRate)}%`
        }`,
    )
    .join('；');
  return <EChart option={option} label={label} height={300} testId="stats-trend" />;
}

const TIER_KEYS = TIERS;

/** Cases overdue now, per issuing unit (rows) and tier (columns). */
export function OverdueHeatMap({ rows }: { rows: IssuingStats[] }) {
  const units = [...rows].sort((a, b) => a.overdueNow - b.overdueNow); // the worst at the top
  const data = units.flatMap((r, y) => TIER_KEYS.map((tier, x) => [x, y, r.overdueByTier[tier] ?? 0]));
  const max = Math.max(1, ...data.map((d) => d[2] as number));
  const tiers = TIER_KEYS.map((k) => tierShortLabel(k));
  const option: echarts.EChartsCoreOption = {
    animation: false,
    tooltip: {
      position: 'top',
      formatter: (p: { value: [number, number, number] }) =>
        `${units[p.value[1]]?.unitName ?? ''} · ${tiers[p.value[0]] ?? ''}：${t('超期')} ${p.value[2]} ${t('件')}`,
    },
    grid: { left: 8, right: 8, top: 8, bottom: 72, containLabel: true },
    xAxis: { type: 'category', data: tiers, splitArea: { show: true } },
    yAxis: {
      type: 'category',
      data: units.map((r) => r.unitName),
      splitArea: { show: true },
      axisLabel: { width: 160, overflow: 'truncate' },
    },
    visualMap: {
      min: 0,
      max,
      calculable: true,
      orient: 'horizontal',
      left: 'center',
      bottom: 0,
      inRange: { color: ['#f6ffed', '#ffe58f', '#cf1322'] },
    },
    series: [
      { type: 'heatmap', data, label: { show: true }, emphasis: { itemStyle: { borderColor: '#333' } } },
    ],
  };
  const label = units
    .slice()
    .reverse()
    .map(
      (r) => `${r.unitName}：${TIER_KEYS.map((k, i) => `${tiers[i]} ${r.overdueByTier[k] ?? 0}`).join('，')}`,
    )
    .join('；');
  return (
    <EChart
      option={option}
      label={label}
      height={Math.max(180, 110 + 34 * units.length)}
      testId="stats-heatmap"
    />
  );
}
