/**
 * The working-day calendar: the official schedule of a year (import), days set by the administrator,
 * office hours by the date they take effect, and the rule for what arrives outside office hours.
 */
import { App, Button, Card, DatePicker, Form, Input, InputNumber, Radio, Table, Tag, Typography } from 'antd';
import type { Dayjs } from 'dayjs';
import { useState } from 'react';
import { api, isMissingRoute } from '../../api.ts';
import { MissingRoute, PageHeader, ProblemAlert } from '../../components.tsx';
import { useApi } from '../../data.ts';
import { EmptyHint } from '../../empty-states.tsx';
import { t } from '../../i18n.ts';
import { fmt } from '../../time.ts';
import { OfficialScheduleCard } from '../OfficialSchedule.tsx';

// ─── Calendar ────────────────────────────────────────────────────────────────────────────────────

interface Hours {
  start: string;
  end: string;
}

interface Settings {
  /** In force today. */
  officeHours: Hours[];
  /** Ascending by date; `from: null` since the beginning. */
  officeHoursPeriods: { from: string | null; hours: Hours[]; current: boolean }[];
  extraCoveredYears: number[];
  offHoursReceipt: 'next-opening' | 'as-is';
  libraryCoveredYears: number[];
  updatedBy: string;
  updatedByName: string | null;
  updatedAt: string;
}

const hoursText = (hours: Hours[]) => hours.map((h) => `${h.start}-${h.end}`).join(', ');

/** '09:00-12:00, 13:30-17:30' → intervals (the server checks them). */
const parseHours = (text: string): Hours[] =>
  text
    .split(/[,，\s]+/)
    .filter(Boolean)
    .map((p) => {
      const [start = '', end = ''] = p.split('-');
      return { start, end };
    });

/**
 * Office hours by the date they take effect (summer hours): the periods, and a form to add one from today or
 * later — the hours of days already past are never changed.
 */
function OfficeHoursCard({
  settings,
  onSaved,
  onError,
}: {
  settings: Settings;
  onSaved: (r: { retime?: { signalled: number } }) => void;
  onError: (e: unknown) => void;
}) {
  const [form] = Form.useForm<{ from: Dayjs; hours: string }>();
  const today = fmt(new Date()).slice(0, 10);
  const periods = settings.officeHoursPeriods ?? [];
  const currentIndex = periods.findIndex((p) => p.current);
  return (
    <Card size="small" title={t('办公时间（按执行日期）')} style={{ marginBottom: 16 }}>
      <Table
        rowKey={(p) => p.from ?? 'since-ever'}
        size="small"
        pagination={false}
        dataSource={periods}
        style={{ marginBottom: 12 }}
        columns={[
          {
            title: t('执行日期'),
            dataIndex: 'from',
            render: (v: string | null) => v ?? t('自始'),
          },
          { title: t('办公时段'), dataIndex: 'hours', render: (h: Hours[]) => hoursText(h) },
          {
            title: t('状态'),
            key: 'state',
            render: (_v, p, i) =>
              p.current ? (
                <Tag color="green">{t('执行中')}</Tag>
              ) : i > currentIndex ? (
                <Tag color="blue">{t('待执行')}</Tag>
              ) : (
                <Tag>{t('已停止')}</Tag>
              ),
          },
          {
            title: t('操作'),
            key: 'a',
            render: (_v, p) =>
              p.from !== null && p.from >= today ? (
                <Button
                  size="small"
                  onClick={async () => {
                    try {
                      onSaved(await api.delete(`/api/v1/admin/calendar/office-hours/${p.from}`));
                    } catch (e) {
                      onError(e);
                    }
                  }}
                >
                  {t('撤销')}
                </Button>
              ) : null,
          },
        ]}
      />
      <Form
        form={form}
        layout="inline"
        onFinish={async (v) => {
          onError(undefined);
          try {
            onSaved(
              await api.post('/api/v1/admin/calendar/office-hours', {
                from: v.from.format('YYYY-MM-DD'),
                hours: parseHours(v.hours),
              }),
            );
            form.resetFields();
          } catch (e) {
            onError(e);
          }
        }}
      >
        <Form.Item name="from" label={t('执行日期')} rules={[{ required: true }]}>
          <DatePicker disabledDate={(d) => d.format('YYYY-MM-DD') < today} />
        </Form.Item>
        <Form.Item
          name="hours"
          label={t('办公时段')}
          rules={[{ required: true }]}
          extra={t('如 08:30-12:00, 14:30-18:00（北京时间）；执行日期之前的时间不重新计算')}
        >
          <Input style={{ width: 260 }} />
        </Form.Item>
        <Button type="primary" htmlType="submit">
          {t('新增办公时间')}
        </Button>
      </Form>
    </Card>
  );
}

export function CalendarSection() {
  const { message } = App.useApp();
  const [year, setYear] = useState(() => Number(fmt(new Date()).slice(0, 4)));
  const days = useApi<{
    items: { date: string; kind: 'work' | 'off'; name: string | null; updatedAt: string }[];
  }>('/api/v1/admin/calendar/days', { year });
  const settings = useApi<Settings>('/api/v1/admin/calendar/settings');
  const [dayForm] = Form.useForm<{ date: Dayjs; kind: 'work' | 'off'; name?: string }>();
  const [error, setError] = useState<unknown>();
  if (isMissingRoute(days.error)) return <MissingRoute route="GET /api/v1/admin/calendar/days" />;

  const retimed = (r: { retime?: { signalled: number } }) =>
    void message.success(
      `${t('已保存')}${r.retime?.signalled ? `；${r.retime.signalled} ${t('件在办协查已重新计算时限')}` : ''}`,
    );

  return (
    <div>
      <PageHeader title={t('工作日历')} />
      <ProblemAlert error={error ?? days.error ?? settings.error} onClose={() => setError(undefined)} />
      <OfficialScheduleCard />
      <Card size="small" title={t('设定某日上班或休息')} style={{ marginBottom: 16 }}>
        <Form
          form={dayForm}
          layout="inline"
          initialValues={{ kind: 'off' }}
          onFinish={async (v) => {
            setError(undefined);
            try {
              const r = await api.put<{ retime: { signalled: number } }>(
                `/api/v1/admin/calendar/days/${v.date.format('YYYY-MM-DD')}`,
                { kind: v.kind, ...(v.name?.trim() ? { name: v.name.trim() } : {}) },
              );
              retimed(r);
              void days.reload(true);
            } catch (e) {
              setError(e);
            }
          }}
        >
          <Form.Item name="date" label={t('日期')} rules={[{ required: true }]}>
            <DatePicker />
          </Form.Item>
          <Form.Item name="kind" label={t('类型')}>
            <Radio.Group
              options={[
                { value: 'off', label: t('休息') },
                { value: 'work', label: t('上班') },
              ]}
            />
          </Form.Item>
          <Form.Item name="name" label={t('名称')}>
            <Input placeholder={t('如 春节、调休上班、临时闭馆')} />
          </Form.Item>
          <Button type="primary" htmlType="submit">
            {t('保存')}
          </Button>
        </Form>
      </Card>
      <Card
        size="small"
        title={`${t('管理员设定的日期')}（${t('其余按国务院安排或周末规则')}）`}
        extra={
          <InputNumber
            aria-label={t('年份')}
            min={2000}
            max={2100}
            value={year}
            onChange={(v) => v && setYear(v)}
          />
        }
        style={{ marginBottom: 16 }}
      >
        <Table
          rowKey="date"
          size="small"
          pagination={false}
          dataSource={days.data?.items ?? []}
          locale={{
            emptyText: (
              <EmptyHint
                title={t('本年度没有管理员设定的日期')}
                hint={t(
                  '其余日期按国务院放假安排或周末规则。临时闭馆或调休时，在上方“设定某日上班或休息”中添加。',
                )}
              />
            ),
          }}
          columns={[
            { title: t('日期'), dataIndex: 'date' },
            {
              title: t('类型'),
              dataIndex: 'kind',
              render: (k: string) =>
                k === 'work' ? <Tag color="blue">{t('上班')}</Tag> : <Tag>{t('休息')}</Tag>,
            },
            { title: t('名称'), dataIndex: 'name', render: (v: string | null) => v ?? '—' },
            { title: t('修改时间'), dataIndex: 'updatedAt', render: (v: string) => fmt(v) },
            {
              title: t('操作'),
              key: 'a',
              render: (_v, d) => (
                <Button
                  size="small"
                  onClick={async () => {
                    try {
                      retimed(await api.delete(`/api/v1/admin/calendar/days/${d.date}`));
                      void days.reload(true);
                    } catch (e) {
                      setError(e);
                    }
                  }}
                >
                  {t('撤销设定')}
                </Button>
              ),
            },
          ]}
        />
      </Card>
      {settings.data && (
        <OfficeHoursCard
          settings={settings.data}
          onSaved={(r) => {
            retimed(r);
            void settings.reload(true);
          }}
          onError={setError}
        />
      )}
      {settings.data && (
        <Card size="small" title={t('办公时间与收件规则')}>
          <Form
            layout="vertical"
            initialValues={{
              offHoursReceipt: settings.data.offHoursReceipt,
              extraCoveredYears: settings.data.extraCoveredYears.join(', '),
            }}
            onFinish={async (v: { offHoursReceipt: string; extraCoveredYears: string }) => {
              setError(undefined);
              try {
                // Today's hours unchanged: office hours change by date in the card above.
                const officeHours = settings.data?.officeHours ?? [];
                const extraCoveredYears = v.extraCoveredYears
                  .split(/[,，\s]+/)
                  .filter(Boolean)
                  .map(Number);
                retimed(
                  await api.put('/api/v1/admin/calendar/settings', {
                    officeHours,
                    offHoursReceipt: v.offHoursReceipt,
                    extraCoveredYears,
                  }),
                );
                void settings.reload(true);
              } catch (e) {
                setError(e);
              }
            }}
          >
            <Form.Item label={t('今天执行的办公时间')}>
              <Typography.Text>{hoursText(settings.data.officeHours)}</Typography.Text>
            </Form.Item>
            <Form.Item name="offHoursReceipt" label={t('非办公时间收到的协查')}>
              <Radio.Group
                options={[
                  { value: 'next-opening', label: t('视为下一个办公时段开始时收到') },
                  { value: 'as-is', label: t('按实际收到时间') },
                ]}
              />
            </Form.Item>
            <Form.Item
              name="extraCoveredYears"
              label={t('补充覆盖年度')}
              extra={`${t('日历库已覆盖')}：${settings.data.libraryCoveredYears[0]}–${settings.data.libraryCoveredYears.at(-1)}`}
            >
              <Input placeholder="2027" />
            </Form.Item>
            <Typography.Paragraph type="secondary">
              {settings.data.updatedByName
                ? `${t('上次修改')}：${fmt(settings.data.updatedAt)}（${settings.data.updatedByName}）`
                : t('尚未修改，现为系统默认设置')}
            </Typography.Paragraph>
            <Button type="primary" htmlType="submit">
              {t('保存')}
            </Button>
          </Form>
        </Card>
      )}
    </div>
  );
}
