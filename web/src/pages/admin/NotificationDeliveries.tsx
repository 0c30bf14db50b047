/**
 * Message channels (administrators): each unit's group robot (钉钉 / 企业微信, chosen from the configured
 * robots; their keys stay in configuration) and the delivery log of robot and SMS messages — status, tries,
 * the last error, and every time in Beijing time as the server writes it.
 */
import { App, Button, Card, Form, Modal, Select, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { api, isMissingRoute } from '../../api.ts';
import { MissingRoute, PageHeader, ProblemAlert } from '../../components.tsx';
import { useApi } from '../../data.ts';
import { t } from '../../i18n.ts';

interface Delivery {
  id: string;
  channel: string;
  channelLabel: string;
  recipientText: string;
  kind: string;
  title: string;
  urgent: boolean;
  status: 'held' | 'pending' | 'retrying' | 'sent' | 'failed';
  statusLabel: string;
  attempts: number;
  lastError: string | null;
  createdAtText: string;
  notBeforeText: string;
  sentAtText: string | null;
}

interface UnitChannel {
  unitCode: string;
  unitName: string;
  channel: 'dingtalk' | 'wecom' | 'none';
  channelLabel: string;
  robot: string | null;
  kinds: string[];
}

interface UnitChannels {
  items: UnitChannel[];
  robots: { dingtalk: string[]; wecom: string[] };
  smsAvailable: boolean;
  kinds: { kind: string; title: string }[];
}

const STATUS_COLORS: Record<string, string> = {
  held: 'blue',
  pending: 'default',
  retrying: 'orange',
  sent: 'green',
  failed: 'red',
};

const STATUS_OPTIONS = [
  { value: 'held', label: '静默时段暂缓' },
  { value: 'pending', label: '待发送' },
  { value: 'retrying', label: '等待重试' },
  { value: 'sent', label: '已发送' },
  { value: 'failed', label: '发送失败' },
];
const CHANNEL_OPTIONS = [
  { value: 'dingtalk', label: '钉钉群机器人' },
  { value: 'wecom', label: '企业微信群机器人' },
  { value: 'sms', label: '短信' },
];

function UnitRobots() {
  const { message } = App.useApp();
  const { data, error, reload } = useApi<UnitChannels>('/api/v1/notification-preferences/units');
  const [editing, setEditing] = useState<UnitChannel>();
  const [form] = Form.useForm();
  const channel = Form.useWatch('channel', form) as UnitChannel['channel'] | undefined;
  const kindTitle = (k: string) => data?.kinds.find((x) => x.kind === k)?.title ?? k;
  const save = async () => {
    if (!editing) return;
    const v = await form.validateFields();
    try {
      await api.put(`/api/v1/notification-preferences/units/${encodeURIComponent(editing.unitCode)}`, {
        channel: v.channel,
        ...(v.channel === 'none' ? {} : { robot: v.robot ?? null, kinds: v.kinds ?? [] }),
      });
      void message.success(t('已保存'));
      setEditing(undefined);
      void reload(true);
    } catch (e) {
      void message.error((e as Error).message);
    }
  };
  return (
    <Card title={t('单位群机器人')} size="small" style={{ marginBottom: 16 }}>
      <ProblemAlert error={error} />
      <Table<UnitChannel>
        rowKey="unitCode"
        size="small"
        pagination={false}
        dataSource={data?.items ?? []}
        columns={[
          { title: t('单位'), dataIndex: 'unitName' },
          { title: t('群消息'), dataIndex: 'channelLabel' },
          { title: t('机器人'), dataIndex: 'robot', render: (r: string | null) => r ?? '—' },
          {
            title: t('通知类别'),
            dataIndex: 'kinds',
            render: (kinds: string[], u) =>
              u.channel === 'none' ? '—' : kinds.length ? kinds.map(kindTitle).join('、') : t('全部'),
          },
          {
            title: t('操作'),
            key: 'edit',
            render: (_: unknown, u) => (
              <Button
                size="small"
                data-testid={`robot-edit-${u.unitCode}`}
                onClick={() => {
                  form.setFieldsValue({ channel: u.channel, robot: u.robot ?? undefined, kinds: u.kinds });
                  setEditing(u);
                }}
              >
                {t('设置')}
              </Button>
            ),
          },
        ]}
      />
      <Modal
        open={Boolean(editing)}
        title={`${t('群机器人')}：${editing?.unitName ?? ''}`}
        onCancel={() => setEditing(undefined)}
        onOk={() => void save()}
        okText={t('保存')}
        cancelText={t('取消')}
      >
        <Form form={form} layout="vertical">
          <Form.Item name="channel" label={t('群消息')} rules={[{ required: true }]}>
            <Select
              options={[
                { value: 'none', label: t('不发群消息') },
                { value: 'dingtalk', label: t('钉钉群机器人'), disabled: !data?.robots.dingtalk.length },
                { value: 'wecom', label: t('企业微信群机器人'), disabled: !data?.robots.wecom.length },
              ]}
            />
          </Form.Item>
          {channel && channel !== 'none' && (
            <>
              <Form.Item name="robot" label={t('机器人（配置中的名称）')} rules={[{ required: true }]}>
                <Select options={(data?.robots[channel] ?? []).map((r) => ({ value: r, label: r }))} />
              </Form.Item>
              <Form.Item name="kinds" label={t('发到群里的通知类别（不选 = 全部）')}>
                <Select
                  mode="multiple"
                  options={(data?.kinds ?? []).map((k) => ({ value: k.kind, label: k.title }))}
                />
              </Form.Item>
            </>
          )}
        </Form>
      </Modal>
    </Card>
  );
}

export function NotificationDeliveriesSection() {
  const [status, setStatus] = useState<string>();
  const [channel, setChannel] = useState<string>();
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const { data, error, loading, reload } = useApi<{ items: Delivery[]; nextCursor: string | null }>(
    '/api/v1/admin/notification-deliveries',
    { status, channel, cursor, limit: 50 },
  );
  if (isMissingRoute(error)) return <MissingRoute route="GET /api/v1/admin/notification-deliveries" />;
  return (
    <div>
      <PageHeader
        title={t('消息投递')}
        extra={
          <Button onClick={() => void reload()} data-testid="deliveries-reload">
            {t('刷新')}
          </Button>
        }
      />
      <Typography.Paragraph type="secondary">
        {t(
          '站内消息始终发送；钉钉、企业微信群机器人和短信经投递队列发送，失败自动重试。非工作时间的消息在上班后发送，督办类消息立即发送。时间均为北京时间。',
        )}
      </Typography.Paragraph>
      <UnitRobots />
      <Card title={t('投递记录')} size="small">
        <Space wrap style={{ marginBottom: 12 }}>
          <Select
            allowClear
            placeholder={t('状态')}
            style={{ width: 160 }}
            value={status}
            data-testid="deliveries-status"
            onChange={(v) => {
              setStatus(v);
              setCursors([]);
            }}
            options={STATUS_OPTIONS.map((o) => ({ ...o, label: t(o.label) }))}
          />
          <Select
            allowClear
            placeholder={t('渠道')}
            style={{ width: 180 }}
            value={channel}
            onChange={(v) => {
              setChannel(v);
              setCursors([]);
            }}
            options={CHANNEL_OPTIONS.map((o) => ({ ...o, label: t(o.label) }))}
          />
        </Space>
        <ProblemAlert error={error} />
        <Table<Delivery>
          rowKey="id"
          size="small"
          loading={loading}
          pagination={false}
          scroll={{ x: 1000 }}
          data-testid="deliveries-table"
          dataSource={data?.items ?? []}
          columns={[
            { title: t('生成时间'), dataIndex: 'createdAtText', width: 170 },
            { title: t('渠道'), dataIndex: 'channelLabel', width: 140 },
            { title: t('接收方'), dataIndex: 'recipientText' },
            {
              title: t('通知'),
              dataIndex: 'title',
              render: (title: string, d) => (
                <Space size={4}>
                  {title}
                  {d.urgent && <Tag color="red">{t('督办')}</Tag>}
                </Space>
              ),
            },
            {
              title: t('状态'),
              dataIndex: 'statusLabel',
              render: (label: string, d) => <Tag color={STATUS_COLORS[d.status]}>{label}</Tag>,
            },
            { title: t('尝试次数'), dataIndex: 'attempts', width: 90 },
            {
              title: t('发送时间'),
              dataIndex: 'sentAtText',
              width: 170,
              render: (s: string | null, d) =>
                s ?? (d.status === 'held' ? `${t('最早')} ${d.notBeforeText}` : '—'),
            },
            { title: t('最近错误'), dataIndex: 'lastError', render: (e: string | null) => e ?? '—' },
          ]}
        />
        <Space style={{ marginTop: 12 }}>
          <Button disabled={!cursors.length} onClick={() => setCursors(cursors.slice(0, -1))}>
            {t('上一页')}
          </Button>
          <Button
            disabled={!data?.nextCursor}
            onClick={() => data?.nextCursor && setCursors([...cursors, data.nextCursor])}
          >
            {t('下一页')}
          </Button>
        </Space>
      </Card>
    </div>
  );
}
