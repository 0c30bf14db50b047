/**
 * The calendar's year coverage: a banner for administrators and supervisors from 60 days before a year without
 * an official holiday schedule, and the administrator's import of that schedule (paste → preview the diff →
 * import, which re-times the open cases it moves).
 */
import { Alert, App, Button, Card, Input, InputNumber, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { api, currentSession } from '../api.ts';
import { ProblemAlert } from '../components.tsx';
import { useApi } from '../data.ts';
import { t } from '../i18n.ts';
import { Link } from '../router.tsx';
import { fmt } from '../time.ts';

interface Coverage {
  coveredYears: number[];
  gap: { year: number; daysUntil: number; message: string } | null;
}

/** Shown at the top of every page for administrators and supervisors while a year lacks its schedule. */
export function CoverageBanner() {
  const role = currentSession()?.staff.role;
  const show = role === 'admin' || role === 'supervisor';
  const coverage = useApi<Coverage>(show ? '/api/v1/calendar/coverage' : undefined);
  const gap = coverage.data?.gap;
  if (!show || !gap) return null;
  return (
    <Alert
      type={gap.daysUntil > 0 ? 'warning' : 'error'}
      showIcon
      data-testid="coverage-banner"
      title={gap.message}
      action={
        role === 'admin' ? (
          <Link to="/admin/calendar">
            <Button size="small">{t('导入放假安排')}</Button>
          </Link>
        ) : undefined
      }
      style={{ marginBottom: 16 }}
    />
  );
}

interface DayChange {
  date: string;
  before: { working: boolean; name: string | null; provisional: boolean };
  after: { working: boolean; name: string | null };
}
interface Preview {
  year: number;
  days: { date: string; kind: 'off' | 'work'; name: string }[];
  changes: DayChange[];
  warnings: string[];
  openCasesAffected: number;
}

const dayLabel = (working: boolean, name: string | null) => (
  <Space size={4}>
    {working ? <Tag color="blue">{t('上班')}</Tag> : <Tag>{t('休息')}</Tag>}
    {name ?? ''}
  </Space>
);

const PLACEHOLDER = `# 每行一天：日期,休|班,名称
2027-01-01,休,元旦
2027-02-05,休,春节
2027-02-20,班,春节调休上班`;

export function OfficialScheduleCard() {
  const { message } = App.useApp();
  const coverage = useApi<Coverage>('/api/v1/calendar/coverage');
  const imported = useApi<{
    items: {
      year: number;
      days: number;
      importedBy: string;
      importedByName: string | null;
      importedAt: string;
    }[];
  }>('/api/v1/admin/calendar/official');
  const [year, setYear] = useState<number | null>(null);
  const [table, setTable] = useState('');
  const [preview, setPreview] = useState<Preview>();
  const [error, setError] = useState<unknown>();
  // Next year in Beijing time; warned about whenever it lacks its official schedule (not only in the
  // last 60 days, as the banner on every page is).
  const nextYear = coverage.data ? Number(fmt(new Date()).slice(0, 4)) + 1 : undefined;
  const target = year ?? coverage.data?.gap?.year ?? new Date().getFullYear() + 1;

  const run = async (apply: boolean) => {
    setError(undefined);
    try {
      if (!apply) {
        setPreview(await api.post<Preview>(`/api/v1/admin/calendar/official/${target}/preview`, { table }));
        return;
      }
      const r = await api.put<{ retime: { signalled: number } }>(
        `/api/v1/admin/calendar/official/${target}`,
        {
          table,
        },
      );
      void message.success(
        `${target} ${t('年度放假安排已导入')}；${r.retime.signalled} ${t('件在办协查已重新计算时限')}`,
      );
      setPreview(undefined);
      void coverage.reload(true);
      void imported.reload(true);
    } catch (e) {
      setError(e);
    }
  };

  return (
    <Card
      size="small"
      title={t('导入年度官方放假安排')}
      style={{ marginBottom: 16 }}
      data-testid="official-schedule"
    >
      <Typography.Paragraph type="secondary">
        {t(
          '国务院办公厅公布放假安排后，在此粘贴全年的放假日和调休上班日。导入前该年度的时限按法定节假日推定（暂定）。',
        )}
      </Typography.Paragraph>
      {nextYear && !coverage.data?.coveredYears.includes(nextYear) && (
        <Alert
          type="warning"
          showIcon
          data-testid="next-year-warning"
          style={{ marginBottom: 12 }}
          title={t('{y} 年度尚无官方放假安排', { y: nextYear })}
          description={t(
            '该年度的办结时限暂按法定节假日和周末推定，可能与实际放假安排不符。国务院办公厅公布后，请在下方选择 {y} 年度，粘贴放假日和调休上班日，预览差异后导入。',
            { y: nextYear },
          )}
        />
      )}
      <ProblemAlert error={error} onClose={() => setError(undefined)} />
      <Space direction="vertical" style={{ width: '100%' }}>
        <Space wrap>
          <span>{t('年度')}</span>
          <InputNumber
            aria-label={t('导入年度')}
            min={2000}
            max={2099}
            value={target}
            onChange={(v) => setYear(v)}
          />
          <span>
            {t('已导入')}：{imported.data?.items.map((i) => i.year).join('、') || t('无')}
          </span>
        </Space>
        <Input.TextArea
          aria-label={t('放假安排表')}
          rows={8}
          value={table}
          placeholder={PLACEHOLDER}
          onChange={(e) => {
            setTable(e.target.value);
            setPreview(undefined);
          }}
        />
        <Space>
          <Button onClick={() => void run(false)} disabled={!table.trim()}>
            {t('预览差异')}
          </Button>
          <Button type="primary" onClick={() => void run(true)} disabled={!preview}>
            {t('确认导入')}
          </Button>
        </Space>
        {preview && (
          <div data-testid="official-preview">
            {preview.warnings.length > 0 && (
              <Alert
                type="warning"
                showIcon
                title={t('请核对')}
                description={
                  <ul style={{ margin: 0, paddingInlineStart: 20 }}>
                    {preview.warnings.map((w) => (
                      <li key={w}>{w}</li>
                    ))}
                  </ul>
                }
                style={{ marginBottom: 8 }}
              />
            )}
            <Typography.Paragraph>
              {t('共')} {preview.days.length} {t('天')}；{t('与现行日历不同的日期')} {preview.changes.length}{' '}
              {t('个')}；{t('将重新计算时限的在办协查')} {preview.openCasesAffected} {t('件')}
            </Typography.Paragraph>
            <Table
              rowKey="date"
              size="small"
              pagination={false}
              dataSource={preview.changes}
              scroll={{ x: true }}
              columns={[
                { title: t('日期'), dataIndex: 'date' },
                {
                  title: t('现行'),
                  key: 'before',
                  render: (_v, c: DayChange) => (
                    <Space size={4}>
                      {dayLabel(c.before.working, c.before.name)}
                      {c.before.provisional && <Tag color="orange">{t('暂定')}</Tag>}
                    </Space>
                  ),
                },
                {
                  title: t('导入后'),
                  key: 'after',
                  render: (_v, c: DayChange) => dayLabel(c.after.working, c.after.name),
                },
              ]}
            />
          </div>
        )}
        {imported.data?.items.length ? (
          <Typography.Text type="secondary">
            {imported.data.items
              .map(
                (i) =>
                  `${i.year}：${i.days} ${t('天')}，${fmt(i.importedAt)}（${i.importedByName ?? t('系统')}）`,
              )
              .join('；')}
          </Typography.Text>
        ) : null}
      </Space>
    </Card>
  );
}
