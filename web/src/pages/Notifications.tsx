/** The bell in the header: the person's and the unit's notifications, unread count, live. */
import { BellOutlined } from '@ant-design/icons';
import { Badge, Button, Empty, List, Popover, Typography } from 'antd';
import { useState } from 'react';
import { api, isMissingRoute } from '../api.ts';
import { useApi } from '../data.ts';
import { t } from '../i18n.ts';
import { useLive } from '../live.ts';
import { navigate } from '../router.tsx';
import { fmt } from '../time.ts';

interface NotificationItem {
  id: string;
  caseId: string | null;
  kind: string;
  message: string;
  createdAt: string;
  readAt: string | null;
}

export function NotificationBell() {
  const { data, error, reload } = useApi<{ items: NotificationItem[]; unreadCount: number }>(
    '/api/v1/notifications',
    { limit: 20 },
  );
  const [open, setOpen] = useState(false);
  useLive((e) => {
    if (e.type === 'notification' || e.type === 'poll') void reload(true);
  });
  if (isMissingRoute(error)) return null;

  const openItem = async (n: NotificationItem) => {
    setOpen(false);
    if (!n.readAt) {
      try {
        await api.post(`/api/v1/notifications/${encodeURIComponent(n.id)}/read`, {});
      } catch {
        // reading it is what matters
      }
      void reload(true);
    }
    if (n.caseId) navigate(`/cases/${encodeURIComponent(n.caseId)}`);
  };

  const content = (
    <div style={{ width: 'min(360px, 86vw)', maxHeight: 420, overflow: 'auto' }}>
      {data?.items.length ? (
        <List
          size="small"
          dataSource={data.items}
          renderItem={(n) => (
            <List.Item style={{ background: n.readAt ? undefined : '#fff7e6' }}>
              <button type="button" className="plain-button" onClick={() => void openItem(n)}>
                <div style={{ fontWeight: n.readAt ? 400 : 600 }}>{n.message}</div>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {fmt(n.createdAt)}
                </Typography.Text>
              </button>
            </List.Item>
          )}
        />
      ) : (
        <Empty description={t('暂无通知')} image={Empty.PRESENTED_IMAGE_SIMPLE} />
      )}
    </div>
  );

  return (
    <Popover
      content={content}
      title={t('通知')}
      trigger="click"
      open={open}
      onOpenChange={setOpen}
      placement="bottomRight"
    >
      <Badge count={data?.unreadCount ?? 0} size="small" overflowCount={99}>
        <Button
          size="small"
          icon={<BellOutlined />}
          aria-label={`${t('通知')}（${data?.unreadCount ?? 0}）`}
        />
      </Badge>
    </Popover>
  );
}
