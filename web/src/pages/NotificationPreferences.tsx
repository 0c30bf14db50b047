/**
 * A person's own notification channels, under the message centre: in-app always; the kinds also sent by SMS
 * to their phone, when the system has an SMS gateway (shown only then).
 */
import { App, Button, Card, Form, Input, Select, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { api, currentSession } from '../api.ts';
import { useApi } from '../data.ts';
import { t } from '../i18n.ts';

interface MyPrefs {
  phone: string | null;
  smsKinds: string[];
  smsAvailable: boolean;
  kinds: { kind: string; title: string }[];
}

export default function SmsPreferences() {
  const { message } = App.useApp();
  // The city government's reviewer has no channels of their own (the route refuses the role).
  const mayChoose = currentSession()?.staff.role !== 'reviewer';
  const { data, reload } = useApi<MyPrefs>(mayChoose ? '/api/v1/notification-preferences/me' : undefined);
  const [form] = Form.useForm<{ phone?: string; smsKinds: string[] }>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (data) form.setFieldsValue({ phone: data.phone ?? undefined, smsKinds: data.smsKinds });
  }, [data, form]);
  if (!data?.smsAvailable) return null;
  const save = async () => {
    const v = await form.validateFields();
    setBusy(true);
    try {
      await api.put('/api/v1/notification-preferences/me', {
        phone: v.phone || null,
        smsKinds: v.smsKinds ?? [],
      });
      void message.success(t('已保存'));
      void reload(true);
    } catch (e) {
      void message.error((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card size="small" title={t('短信通知')} style={{ marginTop: 16 }} data-testid="sms-preferences">
      <Typography.Paragraph type="secondary">
        {t(
          '站内消息始终发送；选中的类别同时以短信发到您的手机（非工作时间的消息在上班后发送，督办类立即发送）。',
        )}
      </Typography.Paragraph>
      <Form form={form} layout="vertical" style={{ maxWidth: 520 }}>
        <Form.Item
          name="phone"
          label={t('手机号')}
          rules={[{ pattern: /^1[3-9]\d{9}$/, message: t('请填写 11 位手机号') }]}
        >
          <Input inputMode="numeric" maxLength={11} />
        </Form.Item>
        <Form.Item name="smsKinds" label={t('以短信发送的通知类别')}>
          <Select mode="multiple" options={data.kinds.map((k) => ({ value: k.kind, label: k.title }))} />
        </Form.Item>
        <Button type="primary" loading={busy} onClick={() => void save()}>
          {t('保存')}
        </Button>
      </Form>
    </Card>
  );
}
