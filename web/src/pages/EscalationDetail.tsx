/**
 * One escalation's ladder and the office's records on it (Art. 11): who was responsible when the deadline
 * was missed, the ordered deadlines it missed, investigations (组织调查), the level judgement (raise to level 2
 * because the delay caused harm, or hold at level 1), requests to the city government to interview (约谈)
 * the responsible leaders and their follow-up. Supervisors record and act (raising and closing ask for a
 * confirmation first); the city government's reviewer reads.
 */
import {
  App,
  Button,
  DatePicker,
  Descriptions,
  Drawer,
  Empty,
  Form,
  Input,
  Modal,
  Select,
  Space,
  Spin,
  Tag,
  Timeline,
  Typography,
} from 'antd';
import type { Dayjs } from 'dayjs';
import { type ReactNode, useState } from 'react';
import { api, currentSession, newIdempotencyKey } from '../api.ts';
import { ProblemAlert, RecordTable, StatusTag, usePhone } from '../components.tsx';
import { useApi, useUnits } from '../data.ts';
import { t } from '../i18n.ts';
import { escLevelLabel, escStatusLabel, INTERVIEW_OUTCOMES, interviewOutcomeLabel } from '../labels.ts';
import { Link } from '../router.tsx';
import { durationText, fmt } from '../time.ts';
import type { EscalationDetail, EscalationView } from '../types.ts';

const day = (d: Dayjs) => d.format('YYYY-MM-DD');

/** The level tag: 2 once raised by the office, with a mark saying so. */
export function LevelTag({ e }: { e: EscalationView }) {
  return (
    <Space size={4} wrap>
      <Tag color={e.effectiveLevel >= 2 ? 'magenta' : 'red'} data-level={e.effectiveLevel}>
        {escLevelLabel(e.effectiveLevel)}
      </Tag>
      {e.judgedLevel === 2 && e.level === 1 && <Tag color="purple">{t('认定提级')}</Tag>}
      {e.judgedLevel === 1 && <Tag>{t('维持第一级')}</Tag>}
    </Space>
  );
}

/** The ordered deadline in force, and those the unit missed (kept visible on the record). */
export function OrderedDeadlines({ e }: { e: EscalationView }) {
  return (
    <Space orientation="vertical" size={0}>
      <span data-testid="ordered-due">{fmt(e.orderedDueAt)}</span>
      {e.missedOrders.map((m) => (
        <Typography.Text key={m.orderedAt} type="danger" delete data-testid="missed-order">
          {fmt(m.dueAt)}（{t('未在责成时限内办结')}）
        </Typography.Text>
      ))}
    </Space>
  );
}

type Values = Record<string, unknown>;

/** A form in a modal that posts to the escalation; `confirm` asks once more before sending. */
function RecordModal({
  title,
  okText,
  url,
  toBody,
  confirm,
  danger,
  initialValues,
  onClose,
  onDone,
  children,
}: {
  title: string;
  okText: string;
  url: string;
  toBody: (v: Values) => unknown;
  confirm?: string;
  danger?: boolean;
  initialValues?: Values;
  onClose: () => void;
  onDone: () => void;
  children: ReactNode;
}) {
  const [form] = Form.useForm<Values>();
  const { message, modal } = App.useApp();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [key] = useState(newIdempotencyKey);
  const send = async (v: Values) => {
    setBusy(true);
    setError(undefined);
    try {
      await api.post(url, toBody(v), key);
      void message.success(t('已记录'));
      onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const submit = async () => {
    let v: Values;
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    if (!confirm) return send(v);
    modal.confirm({
      title: t('请确认'),
      content: confirm,
      okText: t('确认'),
      cancelText: t('取消'),
      okButtonProps: { danger },
      onOk: () => send(v),
    });
  };
  return (
    <Modal
      open
      title={title}
      okText={okText}
      cancelText={t('取消')}
      okButtonProps={{ danger }}
      confirmLoading={busy}
      onOk={() => void submit()}
      onCancel={onClose}
      destroyOnHidden
    >
      <ProblemAlert error={error} />
      <Form form={form} layout="vertical" disabled={busy} initialValues={initialValues}>
        {children}
      </Form>
    </Modal>
  );
}

const required = (msg = t('至少 2 个字')) => [{ required: true, min: 2, whitespace: true, message: msg }];
const trimmed = (v: unknown) => String(v ?? '').trim();

function PersonsList({ name, label, postRequired }: { name: string; label: string; postRequired: boolean }) {
  return (
    <Form.Item label={label} required>
      <Form.List name={name}>
        {(fields, { add, remove }) => (
          <Space orientation="vertical" style={{ width: '100%' }}>
            {fields.map((f) => (
              <Space key={f.key} align="baseline" wrap>
                <Form.Item
                  name={[f.name, 'name']}
                  rules={[{ required: true, whitespace: true, message: t('请填写姓名') }]}
                >
                  <Input placeholder={t('姓名')} aria-label={`${label} ${t('姓名')}`} maxLength={50} />
                </Form.Item>
                <Form.Item
                  name={[f.name, 'post']}
                  rules={postRequired ? [{ required: true, whitespace: true, message: t('请填写职务') }] : []}
                >
                  <Input placeholder={t('单位及职务')} aria-label={`${label} ${t('职务')}`} maxLength={100} />
                </Form.Item>
                {fields.length > 1 && <Button onClick={() => remove(f.name)}>{t('删除')}</Button>}
              </Space>
            ))}
            <Button onClick={() => add({})}>{t('添加人员')}</Button>
          </Space>
        )}
      </Form.List>
    </Form.Item>
  );
}

type Dialog =
  | { kind: 'investigation' }
  | { kind: 'raise' }
  | { kind: 'hold' }
  | { kind: 'interview' }
  | { kind: 'followUp'; requestId: string }
  | { kind: 'close' };

export function EscalationDrawer({
  id,
  onClose,
  onChanged,
}: {
  id: string;
  onClose: () => void;
  onChanged: () => void;
}) {
  const { data, error, loading, reload } = useApi<EscalationDetail>(
    `/api/v1/escalations/${encodeURIComponent(id)}`,
  );
  const units = useUnits();
  const canAct = currentSession()?.staff.role === 'supervisor';
  // A large drawer (736 px) would be cut on a phone: it takes the whole width there.
  const phone = usePhone();
  const [dialog, setDialog] = useState<Dialog>();
  const e = data?.escalation;
  const base = `/api/v1/escalations/${encodeURIComponent(id)}`;
  const done = () => {
    setDialog(undefined);
    void reload(true);
    onChanged();
  };
  const open = e && e.status !== 'closed';
  const by = (r: { recordedByName: string; recordedAt: string }) => (
    <Typography.Text type="secondary">
      {r.recordedByName} · {fmt(r.recordedAt)}
    </Typography.Text>
  );

  return (
    <Drawer
      open
      size={phone ? '100%' : 'large'}
      title={e ? `${t('督办详情')} · ${e.docNumber}` : t('督办详情')}
      onClose={onClose}
      rootClassName="escalation-detail"
      extra={
        !canAct ? (
          <Tag color="blue">{t('只读')}</Tag>
        ) : (
          e && (
            <Space wrap>
              {open && <Button onClick={() => setDialog({ kind: 'investigation' })}>{t('记录调查')}</Button>}
              {open && e.level === 1 && e.judgedLevel !== 2 && !data?.ladder.some((l) => l.level === 2) && (
                <Button danger onClick={() => setDialog({ kind: 'raise' })}>
                  {t('提级为第二级')}
                </Button>
              )}
              {open && e.level === 1 && e.judgedLevel === null && (
                <Button onClick={() => setDialog({ kind: 'hold' })}>{t('维持第一级')}</Button>
              )}
              {open && e.effectiveLevel >= 2 && (
                <Button onClick={() => setDialog({ kind: 'interview' })}>{t('提请约谈')}</Button>
              )}
              {open && (
                <Button type="primary" onClick={() => setDialog({ kind: 'close' })}>
                  {t('督办办结')}
                </Button>
              )}
            </Space>
          )
        )
      }
    >
      <ProblemAlert error={error} />
      {!e ? (
        loading && <Spin />
      ) : (
        <Space orientation="vertical" size="large" style={{ width: '100%' }} data-testid="escalation-detail">
          <Descriptions
            column={1}
            size="small"
            bordered
            items={[
              {
                key: 'doc',
                label: t('文号'),
                children: canAct ? (
                  <Link to={`/cases/${encodeURIComponent(e.caseId)}`}>{e.docNumber}</Link>
                ) : (
                  e.docNumber
                ),
              },
              { key: 'level', label: t('督办级别'), children: <LevelTag e={e} /> },
              {
                key: 'status',
                label: t('状态'),
                children: (
                  <Space>
                    <Tag data-esc-status={e.status}>{escStatusLabel(e.status)}</Tag>
                    <StatusTag status={e.caseStatus} />
                  </Space>
                ),
              },
              { key: 'iss', label: t('出具单位'), children: units.name(e.issuingUnit) },
              { key: 'req', label: t('需求单位'), children: units.name(e.requestingUnit) },
              {
                key: 'missed',
                label: t('错过的时限'),
                children: `${fmt(e.missedDueAt)}（${t('已超时 {t}', { t: durationText(e.minutesLate) })}）`,
              },
              {
                key: 'responsible',
                label: t('责任人（逾期时）'),
                children: (
                  <span data-testid="responsible">
                    {e.responsible
                      ? [
                          `${t('承办人')}：${e.responsible.assignee?.name ?? t('未登记受理')}`,
                          `${e.responsible.backupActing ? t('联络员B角') : t('联络员')}：${
                            e.responsible.liaisons.map((l) => l.name).join('、') || '—'
                          }`,
                        ].join('；')
                      : '—'}
                  </span>
                ),
              },
              { key: 'ordered', label: t('责成时限'), children: <OrderedDeadlines e={e} /> },
              ...(e.outcome ? [{ key: 'outcome', label: t('处理结果'), children: e.outcome }] : []),
            ]}
          />

          {data.ladder.length > 1 && (
            <RecordTable<EscalationView>
              testId="ladder"
              rows={data.ladder}
              title={t('督办阶梯')}
              columns={[
                { key: 'level', title: t('级别'), render: (l) => <LevelTag e={l} /> },
                { key: 'opened', title: t('开始时间'), render: (l) => fmt(l.openedAt) },
                { key: 'missed', title: t('错过的时限'), render: (l) => fmt(l.missedDueAt) },
                { key: 'status', title: t('状态'), render: (l) => escStatusLabel(l.status) },
              ]}
            />
          )}

          <section data-testid="judgements">
            <Typography.Title level={5}>{t('级别认定')}</Typography.Title>
            {data.judgements.length === 0 ? (
              <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('暂无认定')} />
            ) : (
              <Timeline
                items={data.judgements.map((j) => ({
                  key: j.id,
                  color: j.decision === 'raise' ? 'red' : 'gray',
                  content: (
                    <div>
                      <strong>
                        {j.decision === 'raise' ? t('认定造成不良影响，提级为第二级') : t('认定维持第一级')}
                      </strong>
                      ：{j.reason}
                      <div>{by(j)}</div>
                    </div>
                  ),
                }))}
              />
            )}
          </section>

          <section data-testid="investigations">
            <Typography.Title level={5}>{t('组织调查')}</Typography.Title>
            {data.investigations.length === 0 ? (
              <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('暂无调查记录')} />
            ) : (
              data.investigations.map((r) => (
                <div key={r.id} className="esc-record" data-testid="investigation">
                  <Space orientation="vertical" size={2}>
                    <span>
                      {t('调查人员')}：
                      {r.investigators.map((p) => (p.post ? `${p.name}（${p.post}）` : p.name)).join('、')}
                    </span>
                    <span>
                      {t('调查情况')}：{r.findings}
                    </span>
                    {r.documents.length > 0 && (
                      <span>
                        {t('调查材料')}：
                        {r.documents
                          .map((d) => `${d.title}（${d.reference ?? `${t('附件')} ${d.attachmentId}`}）`)
                          .join('；')}
                      </span>
                    )}
                    {by(r)}
                  </Space>
                </div>
              ))
            )}
          </section>

          <section data-testid="interviews">
            <Typography.Title level={5}>{t('提请市政府约谈')}</Typography.Title>
            {data.interviewRequests.length === 0 ? (
              <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('暂无约谈提请')} />
            ) : (
              data.interviewRequests.map((r) => (
                <div key={r.id} className="esc-record" data-testid="interview-request">
                  <Space orientation="vertical" size={2}>
                    <span>
                      {t('提请日期')}：{r.requestedOn}　<Tag>{interviewOutcomeLabel(r.outcome)}</Tag>
                      {canAct && (
                        <Button size="small" onClick={() => setDialog({ kind: 'followUp', requestId: r.id })}>
                          {t('记录跟进')}
                        </Button>
                      )}
                    </span>
                    <span>
                      {t('约谈对象')}：{r.persons.map((p) => `${p.name}（${p.post}）`).join('、')}
                    </span>
                    <span>
                      {t('理由')}：{r.reason}
                    </span>
                    {by(r)}
                    {r.followUps.map((f) => (
                      <Typography.Text key={f.id} type="secondary">
                        {f.date} {f.outcome ? `【${interviewOutcomeLabel(f.outcome)}】` : ''}
                        {f.note}（{f.recordedByName}）
                      </Typography.Text>
                    ))}
                  </Space>
                </div>
              ))
            )}
          </section>
        </Space>
      )}

      {dialog?.kind === 'investigation' && (
        <RecordModal
          title={t('组织调查')}
          okText={t('保存调查记录')}
          url={`${base}/investigations`}
          initialValues={{ investigators: [{}], documents: [] }}
          toBody={(v) => ({
            investigators: (v.investigators as { name: string; post?: string }[]).map((p) => ({
              name: trimmed(p.name),
              ...(trimmed(p.post) ? { post: trimmed(p.post) } : {}),
            })),
            findings: trimmed(v.findings),
            documents: ((v.documents as { title: string; kind: string; value: string }[]) ?? []).map((d) => ({
              title: trimmed(d.title),
              ...(d.kind === 'attachment'
                ? { attachmentId: trimmed(d.value) }
                : { reference: trimmed(d.value) }),
            })),
          })}
          onClose={() => setDialog(undefined)}
          onDone={done}
        >
          <PersonsList name="investigators" label={t('调查人员')} postRequired={false} />
          <Form.Item name="findings" label={t('调查情况')} rules={required()}>
            <Input.TextArea rows={4} maxLength={4000} showCount />
          </Form.Item>
          <Form.Item label={t('调查材料')}>
            <Form.List name="documents">
              {(fields, { add, remove }) => (
                <Space orientation="vertical" style={{ width: '100%' }}>
                  {fields.map((f) => (
                    <Space key={f.key} align="baseline" wrap>
                      <Form.Item
                        name={[f.name, 'title']}
                        rules={[{ required: true, message: t('请填写名称') }]}
                      >
                        <Input placeholder={t('材料名称')} maxLength={200} />
                      </Form.Item>
                      <Form.Item name={[f.name, 'kind']} initialValue="reference">
                        <Select
                          style={{ width: 110 }}
                          aria-label={t('材料类型')}
                          placeholder={t('请选择')}
                          options={[
                            { value: 'reference', label: t('文号') },
                            { value: 'attachment', label: t('本案附件') },
                          ]}
                        />
                      </Form.Item>
                      <Form.Item name={[f.name, 'value']} rules={[{ required: true, message: t('请填写') }]}>
                        <Input placeholder={t('文号或附件 ID')} maxLength={200} />
                      </Form.Item>
                      <Button onClick={() => remove(f.name)}>{t('删除')}</Button>
                    </Space>
                  ))}
                  <Button onClick={() => add({ kind: 'reference' })}>{t('添加材料')}</Button>
                </Space>
              )}
            </Form.List>
          </Form.Item>
        </RecordModal>
      )}
      {dialog?.kind === 'raise' && e && (
        <RecordModal
          title={`${t('提级为第二级督办')} · ${e.docNumber}`}
          okText={t('提级为第二级')}
          danger
          url={`${base}/raise`}
          toBody={(v) => ({ reason: trimmed(v.reason) })}
          confirm={t(
            '确认认定该逾期造成不良影响，将督办提级为第二级（建议约谈）？出具单位负责人将收到通知。',
          )}
          onClose={() => setDialog(undefined)}
          onDone={done}
        >
          <Form.Item
            name="reason"
            label={t('不良影响及提级理由')}
            rules={required()}
            extra={t('第十一条：造成不良影响的，由联席会议办公室提请市政府约谈相关责任人。')}
          >
            <Input.TextArea rows={4} maxLength={1000} showCount />
          </Form.Item>
        </RecordModal>
      )}
      {dialog?.kind === 'hold' && e && (
        <RecordModal
          title={`${t('维持第一级督办')} · ${e.docNumber}`}
          okText={t('维持第一级')}
          url={`${base}/hold`}
          toBody={(v) => ({ reason: trimmed(v.reason) })}
          onClose={() => setDialog(undefined)}
          onDone={done}
        >
          <Form.Item name="reason" label={t('理由')} rules={required()}>
            <Input.TextArea rows={3} maxLength={1000} showCount />
          </Form.Item>
        </RecordModal>
      )}
      {dialog?.kind === 'interview' && e && (
        <RecordModal
          title={`${t('提请市政府约谈')} · ${e.docNumber}`}
          okText={t('记录约谈提请')}
          url={`${base}/interview-requests`}
          initialValues={{ persons: [{}] }}
          toBody={(v) => ({
            requestedOn: day(v.requestedOn as Dayjs),
            persons: (v.persons as { name: string; post: string }[]).map((p) => ({
              name: trimmed(p.name),
              post: trimmed(p.post),
            })),
            reason: trimmed(v.reason),
          })}
          onClose={() => setDialog(undefined)}
          onDone={done}
        >
          <Form.Item
            name="requestedOn"
            label={t('提请日期（北京时间）')}
            rules={[{ required: true, message: t('请选择日期') }]}
          >
            <DatePicker style={{ width: '100%' }} />
          </Form.Item>
          <PersonsList name="persons" label={t('约谈对象')} postRequired />
          <Form.Item name="reason" label={t('提请理由')} rules={required()}>
            <Input.TextArea rows={3} maxLength={1000} showCount />
          </Form.Item>
        </RecordModal>
      )}
      {dialog?.kind === 'followUp' && (
        <RecordModal
          title={t('约谈跟进')}
          okText={t('记录跟进')}
          url={`${base}/interview-requests/${encodeURIComponent(dialog.requestId)}/follow-ups`}
          toBody={(v) => ({
            date: day(v.date as Dayjs),
            note: trimmed(v.note),
            ...(v.outcome ? { outcome: v.outcome } : {}),
          })}
          onClose={() => setDialog(undefined)}
          onDone={done}
        >
          <Form.Item
            name="date"
            label={t('日期（北京时间）')}
            rules={[{ required: true, message: t('请选择日期') }]}
          >
            <DatePicker style={{ width: '100%' }} />
          </Form.Item>
          <Form.Item name="outcome" label={t('约谈结果')}>
            <Select
              allowClear
              placeholder={t('请选择')}
              options={INTERVIEW_OUTCOMES.map((o) => ({ value: o, label: interviewOutcomeLabel(o) }))}
            />
          </Form.Item>
          <Form.Item name="note" label={t('跟进情况')} rules={required()}>
            <Input.TextArea rows={3} maxLength={1000} showCount />
          </Form.Item>
        </RecordModal>
      )}
      {dialog?.kind === 'close' && e && (
        <RecordModal
          title={`${t('督办办结')} · ${e.docNumber}`}
          okText={t('督办办结')}
          url={`${base}/close`}
          toBody={(v) => ({ outcome: trimmed(v.outcome) })}
          confirm={t('确认办结本案的督办（各级一并关闭）？办结后不能再责成、提级或提请约谈。')}
          onClose={() => setDialog(undefined)}
          onDone={done}
        >
          <Form.Item
            name="outcome"
            label={t('处理结果')}
            extra={t('用于考核问责：如调查情况、责任认定、是否建议约谈。')}
            rules={required()}
          >
            <Input.TextArea rows={4} maxLength={1000} showCount />
          </Form.Item>
        </RecordModal>
      )}
    </Drawer>
  );
}
