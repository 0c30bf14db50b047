/**
 * The joint-meeting office's escalation inbox (Art. 11): filtered by issuing unit, level, status and period
 * (Beijing dates), paged by cursor; level, issuing unit, how late, the ordered deadline and any it missed;
 * order the unit to finish by a set time (absolute time, or working-day quick picks from the server's
 * deadline rules). The detail (EscalationDetail.tsx) holds the records and the other acts. The city
 * government's reviewer sees the same list and details, read-only.
 */
import {
  App,
  Button,
  DatePicker,
  Form,
  Grid,
  Input,
  Modal,
  Segmented,
  Select,
  Space,
  Table,
  Tag,
  Typography,
} from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { useEffect, useState } from 'react';
import { api, currentSession, newIdempotencyKey } from '../api.ts';
import { PageHeader, ProblemAlert, StatusTag } from '../components.tsx';
import { useApi, useUnits } from '../data.ts';
import { EmptyHint } from '../empty-states.tsx';
import { t } from '../i18n.ts';
import { escLevelLabel, escStatusLabel } from '../labels.ts';
import { useLive } from '../live.ts';
import { Link } from '../router.tsx';
import { durationText, fmt } from '../time.ts';
import type { DeadlinePreview, EscalationView } from '../types.ts';
import { EscalationDrawer, LevelTag, OrderedDeadlines } from './EscalationDetail.tsx';

/** The picker shows Beijing time whatever the browser's zone: its wall time is read as +08:00. */
interface EscalationPage {
  items: EscalationView[];
  nextCursor: string | null;
}

const toPicker = (iso: string): Dayjs => dayjs(fmt(iso).replace(' ', 'T'));
const fromPicker = (d: Dayjs): string => new Date(`${d.format('YYYY-MM-DDTHH:mm')}:00+08:00`).toISOString();

function OrderModal({
  esc,
  onClose,
  onDone,
}: {
  esc: EscalationView;
  onClose: () => void;
  onDone: () => void;
}) {
  const [form] = Form.useForm<{ dueAt: Dayjs; note: string }>();
  const { message } = App.useApp();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [key] = useState(newIdempotencyKey);
  const [picks, setPicks] = useState<{ label: string; iso: string }[]>([]);

  useEffect(() => {
    // Quick picks in working time, computed by the server's calendar (holidays, make-up days).
    void Promise.all(
      (['30m', '1d', '2d'] as const).map((tier) =>
        api.get<DeadlinePreview>('/api/v1/deadline-preview', { tier }).catch(() => undefined),
      ),
    ).then(([m30, d1, d2]) => {
      const list: { label: string; iso: string }[] = [];
      const todayClose = new Date(`${fmt(new Date()).slice(0, 10)}T17:30:00+08:00`);
      if (todayClose.getTime() > Date.now() + 10 * 60_000)
        list.push({ label: t('今日下班前'), iso: todayClose.toISOString() });
      if (m30) list.push({ label: t('30 分钟（工作时间）'), iso: m30.dueAt });
      if (d1) list.push({ label: t('1 个工作日'), iso: d1.dueAt });
      if (d2) list.push({ label: t('2 个工作日'), iso: d2.dueAt });
      setPicks(list);
    });
  }, []);

  const submit = async () => {
    let v: { dueAt: Dayjs; note: string };
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await api.post(
        `/api/v1/escalations/${encodeURIComponent(esc.id)}/order`,
        { dueAt: fromPicker(v.dueAt), note: v.note.trim() },
        key,
      );
      void message.success(t('已责成限时办结'));
      onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open
      title={`${t('责成限时办结')} · ${esc.docNumber}`}
      okText={t('责成限时办结')}
      cancelText={t('取消')}
      confirmLoading={busy}
      onOk={() => void submit()}
      onCancel={onClose}
    >
      <ProblemAlert error={error} />
      <Form
        form={form}
        layout="vertical"
        disabled={busy}
        initialValues={{ note: t('请于限定时间内办结并反馈') }}
      >
        <Form.Item
          name="dueAt"
          label={`${t('限办时间')}（北京时间）`}
          rules={[{ required: true, message: t('请选择限办时间') }]}
          extra={
            <Space wrap size={4} style={{ marginTop: 6 }}>
              {picks.map((p) => (
                <Button
                  key={p.label}
                  size="small"
                  onClick={() => form.setFieldsValue({ dueAt: toPicker(p.iso) })}
                >
                  {p.label}
                </Button>
              ))}
            </Space>
          }
        >
          <DatePicker
            showTime={{ format: 'HH:mm' }}
            format="YYYY-MM-DD HH:mm"
            style={{ width: '100%' }}
            disabledDate={(d) => d.isBefore(toPicker(new Date().toISOString()), 'day')}
          />
        </Form.Item>
        <Form.Item
          name="note"
          label={t('说明')}
          rules={[{ required: true, min: 2, whitespace: true, message: t('至少 2 个字') }]}
        >
          <Input.TextArea rows={3} maxLength={500} showCount />
        </Form.Item>
      </Form>
    </Modal>
  );
}

type StatusFilter = 'active' | 'closed' | 'all';
const PAGE_SIZE = 50;

export function EscalationsPage() {
  const [status, setStatus] = useState<StatusFilter>('active');
  const [unit, setUnit] = useState<string>();
  const [level, setLevel] = useState<number>();
  const [period, setPeriod] = useState<[Dayjs | null, Dayjs | null] | null>(null);
  const query = {
    status,
    unit,
    level,
    from: period?.[0]?.format('YYYY-MM-DD'),
    to: period?.[1]?.format('YYYY-MM-DD'),
    limit: PAGE_SIZE,
  };
  const { data, error, loading, reload } = useApi<EscalationPage>('/api/v1/escalations', query);
  // Pages after the first, fetched with "加载更多"; dropped when the filters or the first page change.
  const [more, setMore] = useState<EscalationPage>();
  const [moreError, setMoreError] = useState<unknown>();
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new first page (filters, live update) restarts paging
  useEffect(() => setMore(undefined), [data]);
  const cursor = more ? more.nextCursor : data?.nextCursor;
  const loadMore = async () => {
    if (!cursor) return;
    try {
      const next = await api.get<EscalationPage>('/api/v1/escalations', { ...query, cursor });
      setMore((prev) => ({ items: [...(prev?.items ?? []), ...next.items], nextCursor: next.nextCursor }));
      setMoreError(undefined);
    } catch (e) {
      setMoreError(e);
    }
  };
  const units = useUnits();
  const screens = Grid.useBreakpoint();
  const canAct = currentSession()?.staff.role === 'supervisor';
  const [ordering, setOrdering] = useState<EscalationView>();
  const [detail, setDetail] = useState<string>();
  useLive(() => void reload(true));
  const items = [...(data?.items ?? []), ...(more?.items ?? [])];
  const done = () => {
    setOrdering(undefined);
    void reload(true);
  };

  return (
    <div>
      <PageHeader
        title={t('督办事项')}
        extra={
          <Space wrap>
            {!canAct && <Tag color="blue">{t('只读（市政府督查）')}</Tag>}
            <Select
              aria-label={t('出具单位')}
              data-testid="filter-unit"
              allowClear
              showSearch
              optionFilterProp="label"
              placeholder={t('全部出具单位')}
              style={{ minWidth: 180 }}
              value={unit}
              onChange={(v) => setUnit(v)}
              options={units.units
                .filter((u) => u.kind !== 'office')
                .map((u) => ({ value: u.code, label: u.name }))}
            />
            <Select
              aria-label={t('督办级别')}
              data-testid="filter-level"
              allowClear
              placeholder={t('全部级别')}
              style={{ minWidth: 120 }}
              value={level}
              onChange={(v) => setLevel(v)}
              options={[1, 2].map((l) => ({ value: l, label: escLevelLabel(l) }))}
            />
            <DatePicker.RangePicker
              aria-label={t('督办开始日期')}
              allowEmpty={[true, true]}
              placeholder={[t('开始日期'), t('结束日期')]}
              value={period}
              onChange={(v) => setPeriod(v)}
            />
            <Segmented
              aria-label={t('状态')}
              value={status}
              onChange={(v) => setStatus(v as StatusFilter)}
              options={[
                { value: 'active', label: t('未办结') },
                { value: 'closed', label: t('已关闭') },
                { value: 'all', label: t('全部') },
              ]}
            />
          </Space>
        }
      />
      <ProblemAlert error={error} />
      <Table<EscalationView>
        data-testid="escalations"
        rowKey="id"
        loading={loading}
        dataSource={items}
        pagination={false}
        scroll={{ x: 1100 }}
        size={screens.md === false ? 'small' : 'middle'}
        rowClassName={(e) => `esc-row esc-level-${e.effectiveLevel}`}
        locale={{
          emptyText: (
            <EmptyHint
              title={t('没有符合条件的督办事项')}
              hint={t('超过办理时限仍未反馈的协查会自动升级并出现在这里；若设了筛选条件，请放宽后再查。')}
            />
          ),
        }}
        columns={[
          {
            title: t('文号'),
            dataIndex: 'docNumber',
            width: 180,
            render: (v: string, e) =>
              canAct ? (
                <Link to={`/cases/${encodeURIComponent(e.caseId)}`} className="doc-link">
                  {v}
                </Link>
              ) : (
                v
              ),
          },
          {
            title: t('督办级别'),
            dataIndex: 'effectiveLevel',
            render: (_l: number, e) => <LevelTag e={e} />,
          },
          { title: t('出具单位'), dataIndex: 'issuingUnit', render: (v: string) => units.name(v) },
          { title: t('需求单位'), dataIndex: 'requestingUnit', render: (v: string) => units.name(v) },
          { title: t('督办开始'), dataIndex: 'openedAt', render: (v: string) => fmt(v) },
          { title: t('错过的时限'), dataIndex: 'missedDueAt', render: (v: string) => fmt(v) },
          {
            title: t('逾期多久'),
            dataIndex: 'minutesLate',
            render: (m: number) => (
              <Typography.Text type="danger" data-testid="minutes-late">
                {t('已超时 {t}', { t: durationText(m) })}
              </Typography.Text>
            ),
          },
          {
            title: t('状态'),
            dataIndex: 'status',
            render: (s: string, e) => (
              <Space orientation="vertical" size={2}>
                <Tag color={s === 'open' ? 'red' : s === 'ordered' ? 'gold' : 'default'} data-esc-status={s}>
                  {escStatusLabel(s)}
                </Tag>
                <StatusTag status={e.caseStatus} />
              </Space>
            ),
          },
          {
            title: t('责成时限'),
            dataIndex: 'orderedDueAt',
            render: (_v: string | null, e) => <OrderedDeadlines e={e} />,
          },
          {
            title: t('操作'),
            key: 'actions',
            render: (_v, e) => (
              <Space wrap>
                <Button size="small" onClick={() => setDetail(e.id)}>
                  {t('详情')}
                </Button>
                {canAct && e.status === 'open' && (
                  <Button size="small" type="primary" danger onClick={() => setOrdering(e)}>
                    {t('责成限时办结')}
                  </Button>
                )}
                {e.status === 'closed' && <Typography.Text type="secondary">{e.outcome}</Typography.Text>}
              </Space>
            ),
          },
        ]}
      />
      <ProblemAlert error={moreError} />
      {cursor && (
        <div style={{ textAlign: 'center', marginTop: 12 }}>
          <Button onClick={() => void loadMore()}>{t('加载更多')}</Button>
        </div>
      )}
      {ordering && <OrderModal esc={ordering} onClose={() => setOrdering(undefined)} onDone={done} />}
      {detail && (
        <EscalationDrawer
          id={detail}
          onClose={() => setDetail(undefined)}
          onChanged={() => void reload(true)}
        />
      )}
    </div>
  );
}
