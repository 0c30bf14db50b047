/**
 * Empty states that explain: what an empty list or page means, and what to do next (issue 14, item 12).
 * One place for the texts, so every list says it the same way; `ListEmpty` picks the text of a case list
 * from the list it is (its test id) and its filter.
 */
import { Button, Empty } from 'antd';
import type { ReactNode } from 'react';
import { t } from './i18n.ts';
import { navigate } from './router.tsx';

/** An empty state: what it means (title) and what to do next (hint), with an optional next step. */
export function EmptyHint({ title, hint, action }: { title: string; hint: string; action?: ReactNode }) {
  return (
    <Empty
      image={Empty.PRESENTED_IMAGE_SIMPLE}
      data-testid="empty-state"
      description={
        <div>
          <div className="empty-title">{title}</div>
          <div className="empty-hint">{hint}</div>
        </div>
      }
    >
      {action}
    </Empty>
  );
}

type Query = Record<string, string | number | boolean | undefined>;

/** The empty state of a case list: the issuer's inbox by its filter, the requester's outbox, any other. */
export function ListEmpty({ list, query }: { list: string; query: Query }) {
  if (list === 'inbox') {
    if (query.unregistered)
      return (
        <EmptyHint
          title={t('没有待认领的任务')}
          hint={t('需求单位发来的新协查会实时出现在这里（无需刷新），点击“登记受理”即开始计时办理。')}
        />
      );
    if (query.assignedToMe)
      return (
        <EmptyHint
          title={t('您名下没有在办的协查')}
          hint={t('在“未登记（待认领）”中登记受理一件任务，它就会出现在这里。')}
        />
      );
    return (
      <EmptyHint
        title={t('没有未办结的协查任务')}
        hint={t('本单位收到的协查都已办结。新任务到达时会实时出现在这里，右上角的通知也会提醒您。')}
      />
    );
  }
  if (list === 'outbox')
    return (
      <EmptyHint
        title={query.open ? t('没有在办的协查') : t('本单位还没有发起过协查')}
        hint={t('需要核验申请人的信息时，点击“新建协查”向出具单位发函；对方反馈后结果会出现在这里。')}
        action={
          <Button type="primary" onClick={() => navigate('/new')}>
            {t('新建协查')}
          </Button>
        }
      />
    );
  return <EmptyHint title={t('没有符合条件的协查')} hint={t('请放宽筛选条件（日期、状态、单位）后再查。')} />;
}
