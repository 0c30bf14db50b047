/**
 * Notifications: the bell in the header (the latest, unread count, live) and the message centre
 * (`/notifications`): every notification of the person and their unit, read or unread, 全部已读 for the
 * person. Each notification is one per event; the server writes its text in Beijing time and Chinese.
 */
import { BellOutlined } from '@ant-design/icons';
import { App, Badge, Button, Drawer, Empty, Popover, Segmented, Space, Spin, Tag, Typography } from 'antd';
import { lazy, Suspense, useEffect, useState } from 'react';
import { api, isMissingRoute } from '../api.ts';
import { BELL_PATH, BELL_QUERY } from '../bell-request.ts';
import { PageHeader, ProblemAlert, usePhone } from '../components.tsx';
import { useApi } from '../data.ts';
import { t } from '../i18n.ts';
import { useLive } from '../live.ts';
import { Link, navigate } from '../router.tsx';
import { fmt } from '../time.ts';

/** The person's SMS preferences: loaded with the message centre only (not on a clerk's first page). */
const SmsPreferences = lazy(() => import('./NotificationPreferences.tsx'));

interface NotificationItem {
  id: string;
  caseId: string | null;
  kind: string;
  title?: string;
  message: string;
  createdAt: string;
  readAt: string | null;
}

interface NotificationPage {
  items: NotificationItem[];
  unreadCount: number;
  nextCursor: string | null;
}

/** Told to every view of the notifications (the bell, the message centre) when some were marked read. */
const READ_EVENT = 'xiecha:notifications-read';
const announceRead = () => window.dispatchEvent(new Event(READ_EVENT));

/** Reloads when notifications were marked read elsewhere on the page. */
function useReadEvents(reload: () => void): void {
  useEffect(() => {
    window.addEventListener(READ_EVENT, reload);
    return () => window.removeEventListener(READ_EVENT, reload);
  }, [reload]);
}

/** Marks one notification read for the person (errors ignored: opening it is what matters). */
async function markRead(n: NotificationItem): Promise<void> {
  if (n.readAt) return;
  try {
    await api.post(`/api/v1/notifications/${encodeURIComponent(n.id)}/read`, {});
  } catch {
    // reading it is what matters
  }
  announceRead();
}

async function markAllRead(): Promise<number> {
  try {
    return (await api.post<{ marked: number }>('/api/v1/notifications/read-all', {})).marked;
  } finally {
    announceRead();
  }
}

function NotificationLine({ n, onOpen }: { n: NotificationItem; onOpen: (n: NotificationItem) => void }) {
  return (
    <button
      type="button"
      className="plain-button"
      onClick={() => onOpen(n)}
      data-notification={n.kind}
      data-read={n.readAt ? 'read' : 'unread'}
    >
      <div style={{ fontWeight: n.readAt ? 400 : 600 }}>
        {n.title && (
          <Tag className="notification-title" color={n.readAt ? 'default' : 'blue'}>
            {n.title}
          </Tag>
        )}
        <span className="notification-message">{n.message}</span>
      </div>
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {fmt(n.createdAt)}
      </Typography.Text>
    </button>
  );
}

export function NotificationBell() {
  const { data, error, reload } = useApi<NotificationPage>(BELL_PATH, BELL_QUERY);
  const [open, setOpen] = useState(false);
  // On a phone the list drops down from the top over the full width (a popover anchored to the bell ran off
  // the left edge).
  const phone = usePhone();
  useLive((e) => {
    if (e.type === 'notification' || e.type === 'poll') void reload(true);
  });
  useReadEvents(() => void reload(true));
  if (isMissingRoute(error)) return null;

  const openItem = async (n: NotificationItem) => {
    setOpen(false);
    await markRead(n);
    if (n.caseId) navigate(`/cases/${encodeURIComponent(n.caseId)}`);
  };
  const readAll = async () => {
    await markAllRead().catch(() => 0);
  };

  const content = (
    <div
      style={phone ? undefined : { width: 360, maxHeight: 420, overflow: 'auto' }}
      data-testid="notification-list"
    >
      {data?.items.length ? (
        <ul className="notification-list">
          {data.items.map((n) => (
            <li key={n.id} className={n.readAt ? undefined : 'unread'}>
              <NotificationLine n={n} onOpen={(x) => void openItem(x)} />
            </li>
          ))}
        </ul>
      ) : (
        <Empty description={t('暂无通知')} image={Empty.PRESENTED_IMAGE_SIMPLE} />
      )}
      <Space
        style={{
          marginTop: 8,
          width: '100%',
          justifyContent: 'space-between',
          ...(phone ? { padding: '0 12px', boxSizing: 'border-box' as const } : {}),
        }}
      >
        <Link to="/notifications" onClick={() => setOpen(false)}>
          {t('消息中心')}
        </Link>
        <Button size="small" disabled={!data?.unreadCount} onClick={() => void readAll()}>
          {t('全部已读')}
        </Button>
      </Space>
    </div>
  );

  const bell = (
    <Badge count={data?.unreadCount ?? 0} size="small" overflowCount={99}>
      <Button
        size="small"
        icon={<BellOutlined />}
        aria-label={`${t('通知')}（${data?.unreadCount ?? 0}）`}
        aria-haspopup="dialog"
        aria-expanded={open}
        data-testid="notification-bell"
        onClick={phone ? () => setOpen(true) : undefined}
      />
    </Badge>
  );

  if (phone)
    return (
      <>
        {bell}
        <Drawer
          open={open}
          onClose={() => setOpen(false)}
          placement="top"
          size="auto"
          title={t('通知')}
          className="notification-drawer"
          styles={{ body: { padding: '0 0 12px', maxHeight: '70vh', overflow: 'auto' } }}
        >
          {content}
        </Drawer>
      </>
    );

  return (
    <Popover
      content={content}
      title={t('通知')}
      trigger="click"
      open={open}
      onOpenChange={setOpen}
      placement="bottomRight"
      classNames={{ root: 'notification-popover' }}
    >
      {bell}
    </Popover>
  );
}

/** The message centre: all notifications of the person (and their unit), newest first. */
export function NotificationsPage() {
  const { message } = App.useApp();
  const [filter, setFilter] = useState<'all' | 'unread'>('all');
  const { data, error, loading, reload } = useApi<NotificationPage>('/api/v1/notifications', {
    limit: 50,
    ...(filter === 'unread' ? { unreadOnly: true } : {}),
  });
  const [more, setMore] = useState<{ items: NotificationItem[]; cursor: string | null }>();
  const [busy, setBusy] = useState(false);
  useLive((e) => {
    if (e.type === 'notification' || e.type === 'poll') {
      setMore(undefined);
      void reload(true);
    }
  });
  useReadEvents(() => {
    setMore(undefined);
    void reload(true);
  });

  const items = [...(data?.items ?? []), ...(more?.items ?? [])];
  const cursor = more ? more.cursor : (data?.nextCursor ?? null);

  const loadMore = async () => {
    if (!cursor) return;
    const page = await api.get<NotificationPage>('/api/v1/notifications', {
      limit: 50,
      cursor,
      ...(filter === 'unread' ? { unreadOnly: true } : {}),
    });
    setMore({ items: [...(more?.items ?? []), ...page.items], cursor: page.nextCursor });
  };
  const openItem = async (n: NotificationItem) => {
    await markRead(n);
    if (n.caseId) navigate(`/cases/${encodeURIComponent(n.caseId)}`);
  };
  const readAll = async () => {
    setBusy(true);
    try {
      const marked = await markAllRead();
      void message.success(t('已全部标记为已读（{n} 条）', { n: marked }));
    } catch {
      void message.error(t('操作失败，请重试'));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div data-testid="message-centre">
      <PageHeader
        title={t('消息中心')}
        extra={
          <>
            <Tag color={data?.unreadCount ? 'orange' : 'default'} data-testid="unread-count">
              {t('未读 {n} 条', { n: data?.unreadCount ?? 0 })}
            </Tag>
            <Button
              type="primary"
              loading={busy}
              disabled={!data?.unreadCount}
              onClick={() => void readAll()}
            >
              {t('全部已读')}
            </Button>
          </>
        }
      />
      <ProblemAlert error={error} />
      <Segmented
        value={filter}
        onChange={(v) => {
          setMore(undefined);
          setFilter(v as 'all' | 'unread');
        }}
        options={[
          { label: t('全部'), value: 'all' },
          { label: t('未读'), value: 'unread' },
        ]}
        style={{ marginBottom: 12 }}
      />
      {loading && !data ? (
        <Spin />
      ) : items.length ? (
        <ul className="notification-list bordered">
          {items.map((n) => (
            <li key={n.id} className={n.readAt ? undefined : 'unread'}>
              <NotificationLine n={n} onOpen={(x) => void openItem(x)} />
              <Tag color={n.readAt ? 'default' : 'orange'}>{n.readAt ? t('已读') : t('未读')}</Tag>
            </li>
          ))}
        </ul>
      ) : (
        <Empty
          description={
            filter === 'unread' ? t('没有未读通知') : t('暂无通知：新的任务、反馈和督办会出现在这里')
          }
          image={Empty.PRESENTED_IMAGE_SIMPLE}
        />
      )}
      {cursor && (
        <div style={{ textAlign: 'center', marginTop: 12 }}>
          <Button onClick={() => void loadMore()}>{t('加载更多')}</Button>
        </div>
      )}
      <Suspense fallback={null}>
        <SmsPreferences />
      </Suspense>
    </div>
  );
}
