/**
 * The issuing unit's inbox: tasks sorted by deadline with SLA colours in tabs with their counts — 待办 (to
 * register or answer; a case the unit returned is no longer its to do), 待认领, 我承办的, 已办 — register in one
 * click, a liaison's bulk register and reassign; new tasks appear live (server-sent events, or polling when
 * the stream is unavailable).
 */
import { App, Button, Space, Tag } from 'antd';
import { useState } from 'react';
import { api, currentSession } from '../api.ts';
import { PageHeader } from '../components.tsx';
import { t } from '../i18n.ts';
import { navigate } from '../router.tsx';
import type { CaseSummary } from '../types.ts';
import { CaseListView } from './CaseList.tsx';
import { INBOX_TABS, INBOX_TITLE } from './list-tabs.ts';

export function InboxPage() {
  const { message, notification } = App.useApp();
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

  return (
    <div>
      <PageHeader title={t(INBOX_TITLE)} />
      <Space wrap style={{ marginBottom: 12 }} aria-label="图例">
        <Tag color="green">{t('按时')}</Tag>
        <Tag color="orange">
          {t('即将到期')}（{t('最后 20% 时限')}）
        </Tag>
        <Tag color="red">{t('已超时')}</Tag>
      </Space>
      <CaseListView
        testId="inbox"
        box="inbox"
        tabs={INBOX_TABS}
        bulk={currentSession()?.staff.role === 'liaison'}
        unitField="requestingUnit"
        onNew={(fresh) => {
          for (const c of fresh)
            notification.info({
              title: t('新的协查任务'),
              description: `${c.docNumber} · ${c.catalogName ?? c.catalogCode}`,
              placement: 'bottomRight',
            });
        }}
        actions={(c, reload) => (
          <Space size={8} className="row-actions">
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
