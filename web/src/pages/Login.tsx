/** Login, and the password change (forced after an issued password, or by choice). */
import { LockOutlined, UserOutlined } from '@ant-design/icons';
import { Alert, App, Button, Card, Form, Input, Typography } from 'antd';
import { useState } from 'react';
import { ApiError, currentSession, request, type Session, setSession, takeFlash } from '../api.ts';
import { ProblemAlert } from '../components.tsx';
import { resetSharedData } from '../data.ts';
import { t } from '../i18n.ts';
import { navigate, useLocation } from '../router.tsx';

function fieldStatus(error: unknown, pointer: string): { validateStatus?: 'error'; help?: string } {
  if (!(error instanceof ApiError)) return {};
  const f = error.errors.find((e) => e.pointer === pointer);
  return f ? { validateStatus: 'error', help: f.detail } : {};
}

export function LoginPage() {
  const { query } = useLocation();
  const [flash] = useState(takeFlash);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const submit = async (v: { username: string; password: string }) => {
    setBusy(true);
    setError(undefined);
    try {
      const s = await request<Session>('POST', '/api/v1/auth/login', { body: v, anonymous: true });
      resetSharedData();
      setSession(s);
      const next = query.get('next');
      if (s.staff.mustChangePassword) navigate('/password', { replace: true });
      else navigate(next?.startsWith('/') && !next.startsWith('/login') ? next : '/', { replace: true });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="login-page">
      <Card className="login-card">
        <div className="login-title">
          <Typography.Title level={3} style={{ marginBottom: 4 }}>
            {t('淄博市证明事项协查核验系统')}
          </Typography.Title>
          <Typography.Text type="secondary">无证明城市 · 部门间协查核验</Typography.Text>
        </div>
        {flash && (
          <Alert
            type="info"
            showIcon
            title={flash}
            style={{ marginBottom: 16 }}
            role="status"
            data-testid="flash"
          />
        )}
        <ProblemAlert error={error} />
        <Form layout="vertical" onFinish={submit} requiredMark={false} disabled={busy}>
          <Form.Item
            label={t('用户名')}
            name="username"
            rules={[{ required: true, message: t('请输入用户名') }]}
          >
            <Input prefix={<UserOutlined aria-hidden />} autoComplete="username" autoFocus id="username" />
          </Form.Item>
          <Form.Item label={t('密码')} name="password" rules={[{ required: true, message: t('请输入密码') }]}>
            <Input.Password
              prefix={<LockOutlined aria-hidden />}
              autoComplete="current-password"
              id="password"
            />
          </Form.Item>
          <Button type="primary" htmlType="submit" block loading={busy}>
            {t('登录')}
          </Button>
        </Form>
      </Card>
    </div>
  );
}

export function PasswordPage({ forced }: { forced: boolean }) {
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const { message } = App.useApp();
  const me = currentSession();

  const submit = async (v: { currentPassword: string; newPassword: string }) => {
    setBusy(true);
    setError(undefined);
    try {
      const s = await request<Session>('POST', '/api/v1/auth/password', {
        body: { currentPassword: v.currentPassword, newPassword: v.newPassword },
      });
      setSession(s);
      void message.success(t('密码已修改'));
      navigate('/', { replace: true });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="login-page">
      <Card className="login-card">
        <Typography.Title level={3}>{t('修改密码')}</Typography.Title>
        {forced && (
          <Alert
            type="warning"
            showIcon
            title={t('首次登录须修改初始密码后才能继续使用')}
            style={{ marginBottom: 16 }}
          />
        )}
        {me && (
          <Typography.Paragraph type="secondary">
            {me.staff.name}（{me.staff.username}）
          </Typography.Paragraph>
        )}
        <ProblemAlert error={error} />
        <Form layout="vertical" onFinish={submit} disabled={busy}>
          <Form.Item
            label={t('当前密码')}
            name="currentPassword"
            rules={[{ required: true, message: t('请输入密码') }]}
            {...fieldStatus(error, '/body/currentPassword')}
          >
            <Input.Password autoComplete="current-password" />
          </Form.Item>
          <Form.Item
            label={t('新密码')}
            name="newPassword"
            extra={t('至少 10 位，须同时包含字母和数字，不能包含用户名')}
            rules={[
              { required: true, message: t('请输入密码') },
              { min: 10, message: t('至少 10 位，须同时包含字母和数字，不能包含用户名') },
            ]}
            {...fieldStatus(error, '/body/newPassword')}
          >
            <Input.Password autoComplete="new-password" />
          </Form.Item>
          <Form.Item
            label={t('确认新密码')}
            name="confirm"
            dependencies={['newPassword']}
            rules={[
              { required: true, message: t('请输入密码') },
              ({ getFieldValue }) => ({
                validator: (_r, v) =>
                  !v || v === getFieldValue('newPassword')
                    ? Promise.resolve()
                    : Promise.reject(new Error(t('两次输入的新密码不一致'))),
              }),
            ]}
          >
            <Input.Password autoComplete="new-password" />
          </Form.Item>
          <Button type="primary" htmlType="submit" block loading={busy}>
            {t('保存')}
          </Button>
          {!forced && (
            <Button block style={{ marginTop: 8 }} onClick={() => navigate('/')}>
              {t('取消')}
            </Button>
          )}
        </Form>
      </Card>
    </div>
  );
}
