/**
 * The application shell: locale (zh-CN by default, English switchable), the session, the menu for the
 * person's role, and the pages. Letters render without the shell, as printable pages.
 */
import {
  AlertOutlined,
  AppstoreOutlined,
  AuditOutlined,
  BarChartOutlined,
  BellOutlined,
  BookOutlined,
  CalendarOutlined,
  CommentOutlined,
  FileAddOutlined,
  FundOutlined,
  InboxOutlined,
  LogoutOutlined,
  MenuOutlined,
  SafetyCertificateOutlined,
  SendOutlined,
  TeamOutlined,
  UserOutlined,
} from '@ant-design/icons';
import {
  App as AntApp,
  Button,
  Card,
  ConfigProvider,
  Drawer,
  Layout,
  Menu,
  Result,
  Segmented,
  Space,
  Spin,
  Tag,
  Typography,
} from 'antd';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import dayjs from 'dayjs';
import 'dayjs/locale/zh-cn';
import { lazy, type ReactNode, Suspense, useEffect, useState } from 'react';
import {
  announceLogout,
  api,
  currentSession,
  handoverPending,
  onHandoverChange,
  onSessionChange,
  type Session,
  setFlash,
  setSession,
} from './api.ts';
import { useMediaQuery } from './components.tsx';
import { resetSharedData, useUnits } from './data.ts';
import { removeFirstScreen } from './first-screen.ts';
import { type Lang, lang, setLang, t } from './i18n.ts';
import { roleLabel } from './labels.ts';
import { useLiveMode } from './live.ts';
import { InboxPage } from './pages/Inbox.tsx';
import { LoginPage, PasswordPage } from './pages/Login.tsx';
import { NotificationBell, NotificationsPage } from './pages/Notifications.tsx';
import { CoverageBanner } from './pages/OfficialSchedule.tsx';
import { OutboxPage } from './pages/Outbox.tsx';
import { Link, match, navigate, useLocation } from './router.tsx';

// A clerk's first load is the shell and the inbox/outbox lists; every other page (forms with @rjsf and
// ajv, letters, escalations, administration, charts with ECharts) loads when it is opened.
const CaseDetailPage = lazy(() =>
  import('./pages/CaseDetail.tsx').then((m) => ({ default: m.CaseDetailPage })),
);
const EscalationsPage = lazy(() =>
  import('./pages/Escalations.tsx').then((m) => ({ default: m.EscalationsPage })),
);
const LedgerPage = lazy(() => import('./pages/Ledger.tsx').then((m) => ({ default: m.LedgerPage })));
const LetterPage = lazy(() => import('./pages/Letter.tsx').then((m) => ({ default: m.LetterPage })));
const NewRequestPage = lazy(() =>
  import('./pages/NewRequest.tsx').then((m) => ({ default: m.NewRequestPage })),
);
const OverviewPage = lazy(() => import('./pages/Overview.tsx'));
const AdminPage = lazy(() => import('./pages/Admin.tsx'));
// The assessment dashboard and its charts (ECharts) load only when the office opens it.
const StatsDashboardPage = lazy(() => import('./pages/StatsDashboard.tsx'));
// 批量发起 (batches from Excel): loads when the requesting unit opens it.
const BatchesPage = lazy(() => import('./pages/Batches.tsx').then((m) => ({ default: m.BatchesPage })));
// Responsibility disputes (职责争议): the office's page.
const DisputesPage = lazy(() => import('./pages/Disputes.tsx'));
// 告知承诺 (seed 004): commitments and credit records.
const CommitmentsPage = lazy(() =>
  import('./pages/Commitments.tsx').then((m) => ({ default: m.CommitmentsPage })),
);
const CreditRecordsPage = lazy(() =>
  import('./pages/Commitments.tsx').then((m) => ({ default: m.CreditRecordsPage })),
);
// Complaints (投诉, attachment 4): the office's and the handling unit's screen.
const ComplaintsPage = lazy(() => import('./pages/Complaints.tsx'));
const CatalogChangesPage = lazy(() => import('./pages/CatalogChanges.tsx'));
const AnswerReviewsPage = lazy(() => import('./pages/AnswerReviews.tsx'));

function useSession(): Session | undefined {
  const [s, set] = useState(currentSession);
  useEffect(() => onSessionChange(set), []);
  return s;
}

/** True while this tab asks the browser's other tabs for their session (api.ts). */
function useHandoverPending(): boolean {
  const [pending, set] = useState(handoverPending);
  useEffect(() => {
    set(handoverPending());
    return onHandoverChange(() => set(handoverPending()));
  }, []);
  return pending;
}

/** Where a person starts: the issuing inbox, the own requests, the escalations, or administration. */
export function homeFor(s: Session, canIssue: boolean | undefined): string {
  if (s.staff.role === 'admin') return '/admin/units';
  if (s.staff.role === 'supervisor' || s.staff.role === 'reviewer') return '/escalations';
  return canIssue ? '/inbox' : '/outbox';
}

interface MenuEntry {
  key: string;
  icon: ReactNode;
  label: string;
}

function menuFor(s: Session, unit: { canRequest?: boolean; canIssue?: boolean } | undefined): MenuEntry[] {
  const role = s.staff.role;
  if (role === 'admin')
    return [
      { key: '/admin/units', icon: <AppstoreOutlined />, label: t('单位') },
      { key: '/admin/staff', icon: <TeamOutlined />, label: t('人员') },
      { key: '/admin/catalog', icon: <FileAddOutlined />, label: t('证明事项') },
      { key: '/admin/calendar', icon: <CalendarOutlined />, label: t('工作日历') },
      { key: '/stats', icon: <FundOutlined />, label: t('考核统计') },
      { key: '/admin/notification-deliveries', icon: <BellOutlined />, label: t('消息投递') },
      { key: '/catalog-changes', icon: <FileAddOutlined />, label: t('清单调整') },
    ];
  // The city government's reviewer: the escalations and the office's records, read-only.
  if (role === 'reviewer') return [{ key: '/escalations', icon: <AlertOutlined />, label: t('督办事项') }];
  if (role === 'supervisor')
    return [
      { key: '/escalations', icon: <AlertOutlined />, label: t('督办事项') },
      { key: '/overview', icon: <BarChartOutlined />, label: t('概览') },
      { key: '/stats', icon: <FundOutlined />, label: t('考核统计') },
      { key: '/notifications', icon: <BellOutlined />, label: t('消息中心') },
      { key: '/disputes', icon: <AlertOutlined />, label: t('职责争议') },
      { key: '/commitments', icon: <AuditOutlined />, label: t('告知承诺') },
      { key: '/credit-records', icon: <SafetyCertificateOutlined />, label: t('信用记录') },
      { key: '/complaints', icon: <CommentOutlined />, label: t('投诉') },
      { key: '/catalog-changes', icon: <FileAddOutlined />, label: t('清单调整') },
    ];
  const items: MenuEntry[] = [];
  // Without the units route, show everything; the API refuses what the unit may not do.
  if (unit?.canIssue !== false) items.push({ key: '/inbox', icon: <InboxOutlined />, label: t('待办任务') });
  if (unit?.canRequest !== false) {
    items.push({ key: '/new', icon: <FileAddOutlined />, label: t('新建协查') });
    items.push({ key: '/outbox', icon: <SendOutlined />, label: t('我的协查') });
    items.push({ key: '/ledger', icon: <BookOutlined />, label: t('台账') });
    items.push({ key: '/batches', icon: <FileAddOutlined />, label: t('批量发起') });
    items.push({ key: '/commitments', icon: <AuditOutlined />, label: t('告知承诺') });
    items.push({ key: '/credit-records', icon: <SafetyCertificateOutlined />, label: t('信用记录') });
  }
  if (role === 'liaison') items.push({ key: '/admin/staff', icon: <TeamOutlined />, label: t('人员') });
  items.push({ key: '/notifications', icon: <BellOutlined />, label: t('消息中心') });
  items.push({ key: '/complaints', icon: <CommentOutlined />, label: t('投诉') });
  items.push({ key: '/catalog-changes', icon: <FileAddOutlined />, label: t('清单调整') });
  if (unit?.canIssue !== false)
    items.push({ key: '/answer-reviews', icon: <InboxOutlined />, label: t('反馈审核') });
  return items;
}

function LiveIndicator() {
  const mode = useLiveMode();
  if (mode === 'off') return null;
  return (
    <Tag color={mode === 'sse' ? 'green' : 'blue'} data-live={mode} style={{ marginInlineEnd: 0 }}>
      {mode === 'sse' ? t('实时') : t('轮询')}
    </Tag>
  );
}

function LangSwitch({ onChange }: { onChange: (l: Lang) => void }) {
  return (
    <Segmented
      size="small"
      aria-label={t('语言')}
      value={lang()}
      options={[
        { label: '中文', value: 'zh' },
        { label: 'EN', value: 'en' },
      ]}
      onChange={(v) => onChange(v as Lang)}
    />
  );
}

function Shell({
  session,
  children,
  onLang,
}: {
  session: Session;
  children: ReactNode;
  onLang: (l: Lang) => void;
}) {
  const { path } = useLocation();
  const units = useUnits();
  const unit = units.get(session.staff.unitCode);
  const items = menuFor(session, unit);
  const selected = items.map((i) => i.key).filter((k) => path.startsWith(k));
  // Below 992 px the menu is a drawer over the page (a phone keeps its whole width for the page).
  const narrow = useMediaQuery('(max-width: 991px)');
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => {
    if (!narrow) setMenuOpen(false);
  }, [narrow]);

  const logout = async () => {
    try {
      await api.post('/api/v1/auth/logout', {});
    } catch {
      // the local session ends anyway
    }
    // The server revoked every token of the person: the other tabs of this browser sign out too.
    announceLogout(session.staff.id);
    setSession(undefined);
    resetSharedData();
    setFlash(t('您已退出登录'));
    navigate('/login');
  };

  const menu = (
    <>
      <div className="brand">
        <Link to="/" style={{ color: 'inherit' }} onClick={() => setMenuOpen(false)}>
          {t('协查核验系统')}
        </Link>
      </div>
      <nav aria-label={t('主菜单')}>
        <Menu
          theme="dark"
          mode="inline"
          selectedKeys={selected}
          items={items.map((i) => ({
            key: i.key,
            icon: i.icon,
            label: (
              <Link to={i.key} onClick={() => setMenuOpen(false)}>
                {i.label}
              </Link>
            ),
          }))}
        />
      </nav>
    </>
  );

  return (
    <Layout style={{ minHeight: '100vh' }} hasSider={!narrow}>
      {narrow ? (
        <Drawer
          open={menuOpen}
          onClose={() => setMenuOpen(false)}
          placement="left"
          size={240}
          closable={false}
          className="app-menu-drawer"
          styles={{ body: { padding: 0, background: '#001529' } }}
          title={null}
          aria-label={t('主菜单')}
        >
          {menu}
        </Drawer>
      ) : (
        <Layout.Sider width={200} theme="dark" className="app-sider">
          {menu}
        </Layout.Sider>
      )}
      <Layout className="app-main">
        <Layout.Header className="app-header">
          {narrow && (
            <Button
              type="text"
              icon={<MenuOutlined />}
              aria-label={t('打开菜单')}
              aria-expanded={menuOpen}
              data-testid="menu-button"
              onClick={() => setMenuOpen(true)}
              className="menu-button"
            />
          )}
          <div className="header-user">
            <UserOutlined aria-hidden />
            <span data-testid="who">{session.staff.name}</span>
            <Typography.Text type="secondary" className="header-unit">
              {units.name(session.staff.unitCode)} · {roleLabel(session.staff.role)}
            </Typography.Text>
          </div>
          <Space size={8} wrap={false}>
            <LiveIndicator />
            <NotificationBell />
            <LangSwitch onChange={onLang} />
            <Button
              size="small"
              icon={<LogoutOutlined />}
              aria-label={t('退出登录')}
              onClick={() => void logout()}
            >
              <span className="hide-narrow">{t('退出登录')}</span>
            </Button>
          </Space>
        </Layout.Header>
        <Layout.Content className="app-content">
          <main>
            <CoverageBanner />
            {children}
          </main>
        </Layout.Content>
      </Layout>
    </Layout>
  );
}

function NotFound() {
  return (
    <Result
      status="404"
      title={t('页面不存在')}
      extra={
        <Button type="primary" onClick={() => navigate('/')}>
          {t('回到首页')}
        </Button>
      }
    />
  );
}

function Home({ session }: { session: Session }) {
  const units = useUnits();
  const unit = units.get(session.staff.unitCode);
  useEffect(() => {
    // Wait for the units (or their absence) only briefly: a missing route must not block the start.
    const to = homeFor(session, unit?.canIssue);
    const timer = setTimeout(() => navigate(to, { replace: true }), units.available ? 0 : 600);
    return () => clearTimeout(timer);
  }, [session, unit, units.available]);
  return <Spin />;
}

function Routes({ session, onLang }: { session: Session | undefined; onLang: (l: Lang) => void }) {
  const { path } = useLocation();
  const asking = useHandoverPending();
  // A list's first screen (first-screen.ts) goes when the page is not that list (the list removes it itself).
  useEffect(() => {
    if (path !== '/inbox' && path !== '/outbox') removeFirstScreen();
  }, [path]);
  if (path === '/login') return <LoginPage />;
  if (!session && asking)
    return (
      <div className="login-page" data-testid="session-handover">
        <Card className="login-card">
          <Space>
            <Spin />
            <Typography.Text>{t('正在从本浏览器已登录的标签页获取登录状态…')}</Typography.Text>
          </Space>
        </Card>
      </div>
    );
  if (!session) {
    // Not signed in: the login page, then back here.
    const here = window.location.pathname + window.location.search;
    queueMicrotask(() => navigate(`/login?next=${encodeURIComponent(here)}`, { replace: true }));
    return null;
  }
  if (path === '/password') return <PasswordPage forced={session.staff.mustChangePassword} />;
  if (session.staff.mustChangePassword) {
    queueMicrotask(() => navigate('/password', { replace: true }));
    return null;
  }
  const letter = match('/cases/:id/letter/:kind', path);
  if (letter)
    return (
      <Suspense fallback={<Spin />}>
        <LetterPage id={letter.id as string} kind={letter.kind === 'response' ? 'response' : 'request'} />
      </Suspense>
    );

  let page: ReactNode;
  const detail = match('/cases/:id', path);
  if (path === '/') page = <Home session={session} />;
  else if (path === '/new') page = <NewRequestPage />;
  else if (path === '/outbox') page = <OutboxPage />;
  else if (path === '/inbox') page = <InboxPage />;
  else if (path === '/ledger') page = <LedgerPage />;
  else if (path === '/batches') page = <BatchesPage />;
  else if (path === '/notifications') page = <NotificationsPage />;
  else if (detail) page = <CaseDetailPage id={detail.id as string} />;
  else if (path === '/escalations') page = <EscalationsPage />;
  else if (path === '/overview') page = <OverviewPage />;
  else if (path === '/stats') page = <StatsDashboardPage />;
  else if (path === '/disputes') page = <DisputesPage />;
  else if (path === '/commitments') page = <CommitmentsPage />;
  else if (path === '/credit-records') page = <CreditRecordsPage />;
  else if (path.startsWith('/admin/')) page = <AdminPage section={path.slice('/admin/'.length)} />;
  else if (path === '/complaints') page = <ComplaintsPage />;
  else if (path === '/catalog-changes') page = <CatalogChangesPage />;
  else if (path === '/answer-reviews') page = <AnswerReviewsPage />;
  else page = <NotFound />;
  return (
    <Shell session={session} onLang={onLang}>
      <Suspense fallback={<Spin />}>{page}</Suspense>
    </Shell>
  );
}

export function App() {
  const session = useSession();
  const [language, setLanguage] = useState<Lang>(lang());
  const changeLang = (l: Lang) => {
    setLang(l);
    dayjs.locale(l === 'zh' ? 'zh-cn' : 'en');
    setLanguage(l);
  };
  useEffect(() => {
    dayjs.locale(language === 'zh' ? 'zh-cn' : 'en');
    document.documentElement.lang = language === 'zh' ? 'zh-CN' : 'en';
  }, [language]);

  return (
    <ConfigProvider
      locale={language === 'zh' ? zhCN : enUS}
      button={{ autoInsertSpace: false }}
      // Zero runtime: antd's styles come from antd/dist/antd.css (main.tsx) instead of being generated in the
      // page on every first render, which cost a clerk's first screen about a second on a slow CPU; the tokens
      // below still apply, as CSS variables.
      theme={{ zeroRuntime: true, token: { colorPrimary: '#1f5fa8', borderRadius: 4, fontSize: 14 } }}
    >
      <AntApp>
        {/* Remount on a language change: every t() call renders again. */}
        <div key={language}>
          <Routes session={session} onLang={changeLang} />
        </div>
      </AntApp>
    </ConfigProvider>
  );
}
