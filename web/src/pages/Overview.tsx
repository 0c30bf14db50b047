/**
 * A first overview for the joint-meeting office: open and overdue cases per issuing unit, as a bar chart
 * (Apache ECharts) with the same figures in a table. The office sees escalated cases only (Art. 12), so
 * the figures count the cases that have been escalated to it.
 */
import { Card, Table, Typography } from 'antd';
import { BarChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useMemo, useRef } from 'react';
import { PageHeader, ProblemAlert } from '../components.tsx';
import { useApi, useUnits } from '../data.ts';
import { EmptyHint } from '../empty-states.tsx';
import { t } from '../i18n.ts';
import { useLive } from '../live.ts';
import type { CaseList } from '../types.ts';

echarts.use([BarChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

interface Row {
  unit: string;
  name: string;
  open: number;
  overdue: number;
}

function BarChartView({ rows }: { rows: Row[] }) {
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
    chart.current?.setOption({
      animation: false,
      tooltip: { trigger: 'axis' },
      legend: { data: [t('在办'), t('逾期')], top: 0 },
      grid: { left: 8, right: 16, bottom: 8, top: 36, containLabel: true },
      xAxis: {
        type: 'category',
        data: rows.map((r) => r.name),
        axisLabel: { interval: 0, width: 90, overflow: 'break' },
      },
      yAxis: { type: 'value', minInterval: 1 },
      series: [
        {
          name: t('在办'),
          type: 'bar',
          barMaxWidth: 48,
          data: rows.map((r) => r.open),
          itemStyle: { color: '#1677ff' },
        },
        {
          name: t('逾期'),
          type: 'bar',
          barMaxWidth: 48,
          data: rows.map((r) => r.overdue),
          itemStyle: { color: '#cf1322' },
        },
      ],
    });
  }, [rows]);
  return (
    <div
      ref={el}
      role="img"
      aria-label={rows.map((r) => `${r.name}：${t('在办')} ${r.open}，${t('逾期')} ${r.overdue}`).join('；')}
      style={{ width: '100%', height: 320 }}
      data-testid="overview-chart"
    />
  );
}

export default function OverviewPage() {
  const units = useUnits();
  const { data, error, reload } = useApi<CaseList>('/api/v1/verifications', { box: 'escalated', limit: 200 });
  useLive(() => void reload(true));
  const rows = useMemo(() => {
    const by = new Map<string, Row>();
    for (const c of data?.items ?? []) {
      const open = c.status === 'awaiting_registration' || c.status === 'registered';
      const r = by.get(c.issuingUnit) ?? {
        unit: c.issuingUnit,
        name: units.name(c.issuingUnit),
        open: 0,
        overdue: 0,
      };
      if (open) r.open++;
      if (open && c.overdue) r.overdue++;
      by.set(c.issuingUnit, r);
    }
    return [...by.values()].sort((a, b) => b.overdue - a.overdue || b.open - a.open);
  }, [data, units]);

  return (
    <div>
      <PageHeader title={t('概览')} />
      <ProblemAlert error={error} />
      <Card title={t('各出具单位在办与逾期协查')} size="small">
        <BarChartView rows={rows} />
        <Table<Row>
          size="small"
          rowKey="unit"
          pagination={false}
          dataSource={rows}
          style={{ marginTop: 12 }}
          locale={{
            emptyText: (
              <EmptyHint
                title={t('期间内没有协查')}
                hint={t('各单位发起和办理协查后，这里按出具单位汇总件数与按时率。')}
              />
            ),
          }}
          columns={[
            { title: t('出具单位'), dataIndex: 'name' },
            { title: t('在办'), dataIndex: 'open', align: 'right' },
            { title: t('逾期'), dataIndex: 'overdue', align: 'right' },
          ]}
        />
        <Typography.Paragraph type="secondary" style={{ marginTop: 8, fontSize: 12 }}>
          {t('统计范围：已提请联席会议办公室督办的协查（第十一条）；其他协查内容按第十二条不向本办公开。')}
        </Typography.Paragraph>
      </Card>
    </div>
  );
}
