/**
 * Administration (joint-meeting office administrators; a unit's liaison for its own staff): units with
 * the Art. 6 staffing check, staff with A/B partners and absences (here); catalog items with their
 * templates (admin/Catalog.tsx, with the field designer) and the working-day calendar (admin/Calendar.tsx).
 */
import {
  Alert,
  App,
  Button,
  Checkbox,
  DatePicker,
  Form,
  Input,
  Radio,
  Select,
  Space,
  Table,
  Tag,
  Typography,
} from 'antd';
import type { Dayjs } from 'dayjs';
import { useState } from 'react';
import { api, currentSession, isMissingRoute } from '../api.ts';
import { MissingRoute, PageHeader, ProblemAlert } from '../components.tsx';
import { useApi } from '../data.ts';
import { t } from '../i18n.ts';
import { roleLabel } from '../labels.ts';
import { fmt } from '../time.ts';
import type { Unit } from '../types.ts';
import { CalendarSection } from './admin/Calendar.tsx';
import { CatalogSection } from './admin/Catalog.tsx';
import { FormModal } from './admin/FormModal.tsx';
import { NotificationDeliveriesSection } from './admin/NotificationDeliveries.tsx';

const fromPicker = (d: Dayjs): string => new Date(`${d.format('YYYY-MM-DDTHH:mm')}:00+08:00`).toISOString();

// ─── Units ───────────────────────────────────────────────────────────────────────────────────────

interface AdminUnit extends Unit {
  docPrefix: string;
  parentCode: string | null;
  kind: 'department' | 'office';
  canRequest: boolean;
  canIssue: boolean;
  contact: string | null;
}

interface UnitStaffing {
  code: string;
  registered: { liaisons: number; agents: number };
  available: { liaisons: number; agents: number };
  backupLiaison: { id: string; name: string; availableToday: boolean } | null;
}

function UnitsSection() {
  const { data, error, reload } = useApi<{ items: AdminUnit[] }>('/api/v1/admin/units');
  const report = useApi<{
    checkedUnits: number;
    date?: string;
    units?: UnitStaffing[];
    violations: { code: string; name: string; problems: string[] }[];
    warnings: { code: string; name: string; detail: string }[];
  }>('/api/v1/admin/staffing-report');
  const staffing = (code: string) => report.data?.units?.find((u) => u.code === code);
  const [editing, setEditing] = useState<AdminUnit | 'new'>();
  if (isMissingRoute(error)) return <MissingRoute route="GET /api/v1/admin/units" />;
  const save = async (v: Record<string, unknown>) => {
    if (editing === 'new') await api.post('/api/v1/admin/units', v);
    else if (editing) {
      const { code: _c, ...rest } = v;
      await api.patch(`/api/v1/admin/units/${encodeURIComponent(editing.code)}`, rest);
    }
    void reload(true);
    void report.reload(true);
  };
  return (
    <div>
      <PageHeader
        title={t('单位')}
        extra={
          <Button type="primary" onClick={() => setEditing('new')}>
            {t('新增')}
          </Button>
        }
      />
      <ProblemAlert error={error} />
      {report.data && (
        <Alert
          style={{ marginBottom: 16 }}
          type={report.data.violations.length ? 'error' : report.data.warnings.length ? 'warning' : 'success'}
          showIcon
          title={`${t('人员配备检查（第六条：至少 1 名联络员、2 名经办人）')}：${report.data.checkedUnits} ${t('个单位')}`}
          description={
            <ul style={{ margin: 0, paddingInlineStart: 20 }}>
              {report.data.violations.map((v) => (
                <li key={v.code}>
                  {v.name}：{v.problems.join('；')}
                </li>
              ))}
              {report.data.warnings.map((w) => (
                <li key={`${w.code}-w`}>
                  {w.name}：{w.detail}
                </li>
              ))}
              {!report.data.violations.length && !report.data.warnings.length && <li>{t('全部符合')}</li>}
            </ul>
          }
        />
      )}
      <Table<AdminUnit>
        rowKey="code"
        size="middle"
        pagination={false}
        scroll={{ x: 800 }}
        dataSource={data?.items ?? []}
        columns={[
          { title: t('编码'), dataIndex: 'code' },
          { title: t('名称'), dataIndex: 'name' },
          { title: t('文号前缀'), dataIndex: 'docPrefix' },
          {
            title: t('类型'),
            dataIndex: 'kind',
            render: (k: string, u) => (
              <Space wrap size={4}>
                {k === 'office' && <Tag>{t('联席会议办公室')}</Tag>}
                {u.canRequest && <Tag color="blue">{t('需求单位')}</Tag>}
                {u.canIssue && <Tag color="green">{t('出具单位')}</Tag>}
              </Space>
            ),
          },
          { title: t('联系方式'), dataIndex: 'contact', render: (v: string | null) => v ?? '—' },
          {
            title: `${t('联络员')} / ${t('经办人')}（${t('在册')} → ${t('今日在岗')}）`,
            key: 'staffing',
            render: (_v, u) => {
              const st = staffing(u.code);
              if (!st) return '—';
              const short = (n: number, min: number) =>
                n < min ? { color: '#cf1322', fontWeight: 600 } : {};
              return (
                <span data-testid={`staffing-${u.code}`}>
                  {st.registered.liaisons} →{' '}
                  <span style={short(st.available.liaisons, 1)}>{st.available.liaisons}</span>
                  {' / '}
                  {st.registered.agents} →{' '}
                  <span style={short(st.available.agents, 2)}>{st.available.agents}</span>
                </span>
              );
            },
          },
          {
            title: t('联络员B角'),
            key: 'backup',
            render: (_v, u) => {
              const b = staffing(u.code)?.backupLiaison;
              if (!b) return '—';
              return b.availableToday ? b.name : `${b.name}（${t('今日缺岗')}）`;
            },
          },
          {
            title: t('操作'),
            key: 'a',
            render: (_v, u) => (
              <Button size="small" onClick={() => setEditing(u)}>
                {t('编辑')}
              </Button>
            ),
          },
        ]}
      />
      <FormModal
        open={Boolean(editing)}
        title={editing === 'new' ? t('新增单位') : `${t('编辑')} · ${editing?.name ?? ''}`}
        initial={
          editing === 'new'
            ? { kind: 'department', canRequest: true, canIssue: false }
            : (editing as Record<string, unknown> | undefined)
        }
        onClose={() => setEditing(undefined)}
        onSubmit={save}
      >
        <Form.Item name="code" label={t('编码')} rules={[{ required: true }]} extra="如 ZB-GA">
          <Input disabled={editing !== 'new'} />
        </Form.Item>
        <Form.Item name="name" label={t('名称')} rules={[{ required: true, min: 2 }]}>
          <Input />
        </Form.Item>
        <Form.Item name="docPrefix" label={t('文号前缀')} rules={[{ required: true }]} extra="如 淄公协">
          <Input />
        </Form.Item>
        <Form.Item name="kind" label={t('类型')}>
          <Radio.Group
            options={[
              { value: 'department', label: t('部门') },
              { value: 'office', label: t('联席会议办公室') },
            ]}
          />
        </Form.Item>
        <Space>
          <Form.Item name="canRequest" valuePropName="checked">
            <Checkbox>{t('可以发起协查')}</Checkbox>
          </Form.Item>
          <Form.Item name="canIssue" valuePropName="checked">
            <Checkbox>{t('可以出具证明')}</Checkbox>
          </Form.Item>
        </Space>
        <Form.Item name="contact" label={t('联系方式')}>
          <Input />
        </Form.Item>
      </FormModal>
    </div>
  );
}

// ─── Staff ───────────────────────────────────────────────────────────────────────────────────────

interface StaffRow {
  id: string;
  username: string;
  displayName: string;
  unitCode: string;
  role: string;
  partnerId: string | null;
  active: boolean;
  isLeader?: boolean;
  mustChangePassword: boolean;
  lockedUntil: string | null;
  absences?: { id: string; startsAt: string; endsAt: string; reason: string | null }[];
}

function StaffSection() {
  const me = currentSession()?.staff;
  const isAdmin = me?.role === 'admin';
  const { message, modal } = App.useApp();
  const units = useApi<{ items: Unit[] }>('/api/v1/units');
  const [unit, setUnit] = useState<string | undefined>(isAdmin ? undefined : me?.unitCode);
  const chosen = unit ?? units.data?.items.find((u) => u.canIssue || u.canRequest)?.code;
  const list = useApi<{ items: StaffRow[]; backupLiaisonId?: string | null; backupLiaisonActing?: boolean }>(
    chosen ? `/api/v1/units/${encodeURIComponent(chosen)}/staff` : undefined,
  );
  const backupId = list.data?.backupLiaisonId ?? null;
  const setBackup = async (staffId: string | null) => {
    try {
      await api.put(`/api/v1/units/${encodeURIComponent(chosen ?? '')}/backup-liaison`, { staffId });
      void message.success(t('已保存'));
      void list.reload(true);
    } catch (e) {
      void message.error((e as Error).message);
    }
  };
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<StaffRow>();
  const [partnerOf, setPartnerOf] = useState<StaffRow>();
  const [absenceOf, setAbsenceOf] = useState<StaffRow>();
  const people = list.data?.items ?? [];
  const nameOf = (id: string | null) => people.find((p) => p.id === id)?.displayName ?? (id ? id : '—');

  if (isMissingRoute(list.error)) return <MissingRoute route="GET /api/v1/units/:code/staff" />;

  const showPassword = (who: string, password: string) =>
    modal.info({
      title: `${t('初始密码')} · ${who}`,
      content: (
        <div>
          <Typography.Paragraph copyable={{ text: password }} code>
            {password}
          </Typography.Paragraph>
          <Typography.Paragraph type="secondary">
            {t('只显示这一次，请线下交给本人；首次登录须修改。')}
          </Typography.Paragraph>
        </div>
      ),
    });

  return (
    <div>
      <PageHeader
        title={t('人员')}
        extra={
          <>
            <Select
              aria-label={t('单位')}
              style={{ minWidth: 240 }}
              value={chosen}
              onChange={setUnit}
              disabled={!isAdmin}
              options={(units.data?.items ?? []).map((u) => ({ value: u.code, label: u.name }))}
            />
            {isAdmin && (
              <Button type="primary" onClick={() => setCreating(true)}>
                {t('新增')}
              </Button>
            )}
          </>
        }
      />
      <ProblemAlert error={list.error} />
      {list.data && (
        <Space wrap style={{ marginBottom: 12 }}>
          <span>{t('联络员B角')}：</span>
          <Select
            aria-label={t('指定联络员B角')}
            data-testid="backup-liaison"
            allowClear
            style={{ minWidth: 200 }}
            placeholder={t('指定联络员B角')}
            value={backupId ?? undefined}
            onChange={(v?: string) => void setBackup(v ?? null)}
            options={people
              .filter((p) => p.role === 'agent' && p.active)
              .map((p) => ({ value: p.id, label: p.displayName }))}
          />
          {list.data.backupLiaisonActing && <Tag color="orange">{t('联络员缺岗，由联络员B角代行')}</Tag>}
        </Space>
      )}
      <Table<StaffRow>
        rowKey="id"
        size="middle"
        pagination={false}
        scroll={{ x: 900 }}
        loading={list.loading}
        dataSource={people}
        columns={[
          { title: t('用户名'), dataIndex: 'username' },
          { title: t('姓名'), dataIndex: 'displayName' },
          {
            title: t('角色'),
            dataIndex: 'role',
            render: (r: string, p) => (
              <Space wrap size={4}>
                {roleLabel(r)}
                {p.id === backupId && <Tag color="purple">{t('联络员B角')}</Tag>}
                {p.isLeader && <Tag color="volcano">{t('单位负责人')}</Tag>}
              </Space>
            ),
          },
          { title: t('A/B 角'), dataIndex: 'partnerId', render: (p: string | null) => nameOf(p) },
          {
            title: t('缺岗'),
            dataIndex: 'absences',
            render: (a: StaffRow['absences']) =>
              a?.length
                ? a.map((x) => (
                    <div key={x.id}>
                      {fmt(x.startsAt)} – {fmt(x.endsAt)} {x.reason}
                    </div>
                  ))
                : '—',
          },
          {
            title: t('状态'),
            key: 's',
            render: (_v, p) => (
              <Space wrap size={4}>
                {p.active ? <Tag color="green">{t('在岗')}</Tag> : <Tag>{t('停用')}</Tag>}
                {p.mustChangePassword && <Tag color="gold">{t('待改密码')}</Tag>}
                {p.lockedUntil && new Date(p.lockedUntil) > new Date() && (
                  <Tag color="red">{t('已锁定')}</Tag>
                )}
              </Space>
            ),
          },
          {
            title: t('操作'),
            key: 'a',
            render: (_v, p) => (
              <Space wrap size={4}>
                <Button size="small" onClick={() => setPartnerOf(p)}>
                  {t('A/B 角')}
                </Button>
                <Button size="small" onClick={() => setAbsenceOf(p)}>
                  {t('登记缺岗')}
                </Button>
                {isAdmin && (
                  <>
                    <Button size="small" onClick={() => setEditing(p)}>
                      {t('编辑')}
                    </Button>
                    <Button
                      size="small"
                      onClick={async () => {
                        try {
                          const r = await api.post<{ issuedPassword: string }>(
                            `/api/v1/admin/staff/${encodeURIComponent(p.id)}/reset-password`,
                            {},
                          );
                          showPassword(p.displayName, r.issuedPassword);
                        } catch (e) {
                          void message.error((e as Error).message);
                        }
                      }}
                    >
                      {t('重置密码')}
                    </Button>
                  </>
                )}
              </Space>
            ),
          },
        ]}
      />
      <FormModal
        open={creating}
        title={t('新增人员')}
        initial={{ unitCode: chosen, role: 'agent' }}
        onClose={() => setCreating(false)}
        onSubmit={async (v) => {
          const r = await api.post<{ staff: StaffRow; issuedPassword: string }>('/api/v1/admin/staff', v);
          showPassword(r.staff.displayName, r.issuedPassword);
          void list.reload(true);
        }}
      >
        <Form.Item name="username" label={t('用户名')} rules={[{ required: true }]}>
          <Input autoComplete="off" />
        </Form.Item>
        <Form.Item name="displayName" label={t('姓名')} rules={[{ required: true }]}>
          <Input />
        </Form.Item>
        <Form.Item name="unitCode" label={t('单位')} rules={[{ required: true }]}>
          <Select options={(units.data?.items ?? []).map((u) => ({ value: u.code, label: u.name }))} />
        </Form.Item>
        <Form.Item name="role" label={t('角色')} rules={[{ required: true }]}>
          <Radio.Group
            options={['agent', 'liaison', 'supervisor', 'admin', 'reviewer'].map((r) => ({
              value: r,
              label: roleLabel(r),
            }))}
          />
        </Form.Item>
      </FormModal>
      <FormModal
        open={Boolean(editing)}
        title={`${t('编辑')} · ${editing?.displayName ?? ''}`}
        initial={
          editing
            ? {
                displayName: editing.displayName,
                role: editing.role,
                active: editing.active,
                isLeader: editing.isLeader ?? false,
              }
            : {}
        }
        onClose={() => setEditing(undefined)}
        onSubmit={async (v) => {
          await api.patch(`/api/v1/admin/staff/${encodeURIComponent(editing?.id ?? '')}`, {
            ...v,
            ...(v.unlock ? { unlock: true } : { unlock: undefined }),
          });
          void list.reload(true);
        }}
      >
        <Form.Item name="displayName" label={t('姓名')} rules={[{ required: true }]}>
          <Input />
        </Form.Item>
        <Form.Item name="role" label={t('角色')}>
          <Radio.Group
            options={['agent', 'liaison', 'supervisor', 'admin', 'reviewer'].map((r) => ({
              value: r,
              label: roleLabel(r),
            }))}
          />
        </Form.Item>
        <Form.Item name="active" valuePropName="checked">
          <Checkbox>{t('在岗')}</Checkbox>
        </Form.Item>
        <Form.Item
          name="isLeader"
          valuePropName="checked"
          extra={t('本单位的督办升为第二级（建议约谈）时，单位负责人会收到通知。')}
        >
          <Checkbox>{t('单位负责人')}</Checkbox>
        </Form.Item>
        <Form.Item name="unlock" valuePropName="checked">
          <Checkbox>{t('解除登录锁定')}</Checkbox>
        </Form.Item>
      </FormModal>
      <FormModal
        open={Boolean(partnerOf)}
        title={`${t('A/B 角')} · ${partnerOf?.displayName ?? ''}`}
        initial={{ partnerId: partnerOf?.partnerId ?? undefined, mutual: true }}
        onClose={() => setPartnerOf(undefined)}
        onSubmit={async (v) => {
          await api.put(
            `/api/v1/units/${encodeURIComponent(chosen ?? '')}/staff/${encodeURIComponent(partnerOf?.id ?? '')}/partner`,
            { partnerId: v.partnerId ?? null, mutual: Boolean(v.mutual) },
          );
          void list.reload(true);
        }}
      >
        <Form.Item name="partnerId" label={t('A/B 角')} extra={t('A 缺岗时由 B 接办其在办协查（第六条）。')}>
          <Select
            allowClear
            options={people
              .filter(
                (p) => p.id !== partnerOf?.id && p.active && (p.role === 'agent' || p.role === 'liaison'),
              )
              .map((p) => ({ value: p.id, label: `${p.displayName}（${roleLabel(p.role)}）` }))}
          />
        </Form.Item>
        <Form.Item name="mutual" valuePropName="checked">
          <Checkbox>{t('同时把对方的 A/B 角设为本人')}</Checkbox>
        </Form.Item>
      </FormModal>
      <FormModal
        open={Boolean(absenceOf)}
        title={`${t('登记缺岗')} · ${absenceOf?.displayName ?? ''}`}
        onClose={() => setAbsenceOf(undefined)}
        onSubmit={async (v) => {
          const [s, e] = v.range as [Dayjs, Dayjs];
          const r = await api.post<{
            handOver: { caseIds: string[]; toName: string | null; warning: string | null } | null;
          }>(
            `/api/v1/units/${encodeURIComponent(chosen ?? '')}/staff/${encodeURIComponent(absenceOf?.id ?? '')}/absences`,
            { startsAt: fromPicker(s), endsAt: fromPicker(e), reason: String(v.reason ?? '').trim() },
          );
          if (r.handOver?.caseIds.length)
            void message.info(
              `${r.handOver.caseIds.length} ${t('件在办协查已转交')} ${r.handOver.toName ?? ''}`,
            );
          if (r.handOver?.warning) void message.warning(r.handOver.warning);
          void list.reload(true);
        }}
      >
        <Form.Item name="range" label={`${t('缺岗期间')}（北京时间）`} rules={[{ required: true }]}>
          <DatePicker.RangePicker
            showTime={{ format: 'HH:mm' }}
            format="YYYY-MM-DD HH:mm"
            style={{ width: '100%' }}
          />
        </Form.Item>
        <Form.Item name="reason" label={t('缺岗原因')} rules={[{ required: true, whitespace: true }]}>
          <Input maxLength={200} />
        </Form.Item>
      </FormModal>
    </div>
  );
}

export default function AdminPage({ section }: { section: string }) {
  if (section === 'units') return <UnitsSection />;
  if (section === 'staff') return <StaffSection />;
  if (section === 'catalog') return <CatalogSection />;
  if (section === 'calendar') return <CalendarSection />;
  if (section === 'notification-deliveries') return <NotificationDeliveriesSection />;
  return <MissingRoute route={`/admin/${section}`} />;
}
