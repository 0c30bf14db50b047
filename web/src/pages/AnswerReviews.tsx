/**
 * 反馈审核 (review before an answer goes out): a unit's leader sees the answers waiting for approval, with the
 * working time left to each case's deadline in force (the SLA keeps running), and approves (the answer goes out in
 * the author's name) or returns one with a reason; an issuer sees their own drafts and why one came back.
 */
import { App as AntApp, Button, Input, Modal, Space, Table, Tag } from 'antd';
import { useCallback, useEffect, useState } from 'react';
import { api } from '../api.ts';
import { PageHeader, ProblemAlert } from '../components.tsx';
import { t } from '../i18n.ts';
import { durationText, fmt } from '../time.ts';

interface Review {
  id: string;
  caseId: string;
  docNumber: string | null;
  status: string;
  statusLabel: string;
  author: { id: string; name: string };
  submittedAt: string;
  result: string | null;
  fields: Record<string, unknown>;
  reason: string | null;
  dueInForce: string | null;
  minutesLeft: number | null;
}

const RESULTS: Record<string, string> = {
  consistent: '一致',
  inconsistent: '不一致',
  not_found: '查无此信息',
  partial: '部分一致',
};

export default function AnswerReviewsPage() {
  const { message } = AntApp.useApp();
  const [items, setItems] = useState<Review[]>([]);
  // Only the unit's leader decides; an author sees their drafts without the buttons the API would refuse.
  const [reviewer, setReviewer] = useState(false);
  const [error, setError] = useState<unknown>();
  const [returning, setReturning] = useState<Review>();
  const [reason, setReason] = useState('');
  const load = useCallback(async () => {
    try {
      const page = await api.get<{ items: Review[]; reviewer: boolean }>('/api/v1/answer-reviews');
      setItems(page.items);
      setReviewer(page.reviewer);
      setError(undefined);
    } catch (e) {
      setError(e);
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  const act = async (r: Review, what: 'approve' | 'return', body?: object) => {
    try {
      await api.post(`/api/v1/answer-reviews/${r.id}/${what}`, body ?? {});
      void message.success(what === 'approve' ? t('已审核通过，反馈已发出') : t('已退回经办人'));
      await load();
      return true;
    } catch (e) {
      setError(e);
      return false;
    }
  };
  return (
    <div data-testid="answer-reviews-page">
      <PageHeader title={t('反馈审核')} />
      {error ? <ProblemAlert error={error} /> : null}
      <Table<Review>
        rowKey="id"
        dataSource={items}
        pagination={false}
        columns={[
          { title: t('文号'), dataIndex: 'docNumber' },
          { title: t('经办人'), render: (_: unknown, r: Review) => r.author.name },
          { title: t('提交时间'), render: (_: unknown, r: Review) => fmt(r.submittedAt) },
          {
            title: t('核验结果'),
            render: (_: unknown, r: Review) => (r.result ? t(RESULTS[r.result] ?? r.result) : '—'),
          },
          {
            title: t('办理时限'),
            render: (_: unknown, r: Review) =>
              r.minutesLeft === null ? (
                fmt(r.dueInForce)
              ) : r.minutesLeft < 0 ? (
                <Tag color="red">{t('已超时 {d}', { d: durationText(-r.minutesLeft) })}</Tag>
              ) : (
                <span>
                  {fmt(r.dueInForce)}
                  <br />
                  <Tag color="blue">{t('剩余 {d}（工作时间）', { d: durationText(r.minutesLeft) })}</Tag>
                </span>
              ),
          },
          {
            title: t('状态'),
            render: (_: unknown, r: Review) => (
              <span>
                <Tag color={r.status === 'returned' ? 'orange' : 'blue'}>{r.statusLabel}</Tag>
                {r.reason ? `${t('理由')}：${r.reason}` : null}
              </span>
            ),
          },
          {
            title: t('操作'),
            render: (_: unknown, r: Review) =>
              reviewer && r.status === 'pending' ? (
                <Space>
                  <Button size="small" type="primary" onClick={() => void act(r, 'approve')}>
                    {t('审核通过')}
                  </Button>
                  <Button size="small" onClick={() => setReturning(r)}>
                    {t('退回')}
                  </Button>
                </Space>
              ) : null,
          },
        ]}
      />
      <Modal
        open={!!returning}
        title={t('退回经办人')}
        okText={t('确定')}
        onOk={async () => {
          if (returning && (await act(returning, 'return', { reason }))) {
            setReturning(undefined);
            setReason('');
          }
        }}
        onCancel={() => setReturning(undefined)}
      >
        <Input.TextArea
          aria-label={t('退回理由')}
          rows={3}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
        />
      </Modal>
    </div>
  );
}
