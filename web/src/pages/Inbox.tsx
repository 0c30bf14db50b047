/**
 * The issuing unit's inbox: open tasks sorted by deadline with SLA colours, unclaimed vs mine, register
 * in one click; new tasks appear live (server-sent events, or polling when the stream is unavailable).
 */
import { App, Button, Segmented, Space, Tag } from 'antd';
import { useState } from 'react';
import { api } from '../api.ts';
import { PageHeader } from '../components.tsx';
import { t } from '../i18n.ts';
import { navigate } from '../router.tsx';
import type { CaseSummary } from '../types.ts';
import { CaseListView } from './CaseList.tsx';

type Filter = 'open' | 'unclaimed' | 'mine';

export function InboxPage() {
  const { message, notification } = App.useApp();
  const [filter, setFilter] = useState<Filter>('open');
  const [busy, setBusy] = useState<string>();

  const register = async (c: CaseSummary, reload: () => void) => {
    setBusy(c.id);
    try {
      await api.post(`/api/v1/verifications/${encodeURIComponent(c.id)}/register`, {});
      void message.success(`${t('已登记受理')}：${c.docNumber}`);
      reload();
    } catch (e) {
      void message.error((e as Error).message);
    } finally {
      setBusy(undefined);
    }
  };

  const query =
    filter === 'unclaimed'
      ? { box: 'inbox', unregistered: true }
      : filter === 'mine'
        ? { box: 'inbox', open: true, assignedToMe: true }
        : { box: 'inbox', open: true };

  return (
    <div>
      <PageHeader
        title={t('待办任务')}
        extra={
          <Segmented
            aria-label={t('状态')}
            value={filter}
            onChange={(v) => setFilter(v as Filter)}
            options={[
              { value: 'open', label: t('未办结') },
              { value: 'unclaimed', label: t('未登记（待认领）') },
              { value: 'mine', label: t('我承办的') },
            ]}
          />
        }
      />
      <Space wrap style={{ marginBottom: 12 }} aria-label="图例">
        <Tag color="green">{t('按时')}</Tag>
        <Tag color="orange">
          {t('即将到期')}（{t('最后 20% 时限')}）
        </Tag>
        <Tag color="red">{t('已超时')}</Tag>
      </Space>
      <CaseListView
        testId="inbox"
        unitField="requestingUnit"
        query={query}
        onNew={(fresh) => {
          for (const c of fresh)
            notification.info({
              title: t('新的协查任务'),
              description: `${c.docNumber} · ${c.catalogName ?? c.catalogCode}`,
              placement: 'bottomRight',
            });
        }}
        actions={(c, reload) => (
          <Space wrap>
            {c.status === 'awaiting_registration' && (
              <Button
                size="small"
                type="primary"
                loading={busy === c.id}
                onClick={() => void register(c, reload)}
              >
                {t('登记受理')}
              </Button>
            )}
            <Button size="small" onClick={() => navigate(`/cases/${encodeURIComponent(c.id)}`)}>
              {c.status === 'registered' ? t('反馈') : t('查看')}
            </Button>
          </Space>
        )}
      />
    </div>
  );
}
