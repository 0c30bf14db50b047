/** My requests: the requesting unit's cases, their issuing unit, deadline countdown and result. */
import { PlusOutlined } from '@ant-design/icons';
import { Button } from 'antd';
import { PageHeader } from '../components.tsx';
import { t } from '../i18n.ts';
import { navigate } from '../router.tsx';
import { CaseListView, type ListTab } from './CaseList.tsx';

/** 待办: still to wait for or act on (a returned case is the requester's to re-route or close). */
const TABS: ListTab[] = [
  { key: 'open', label: '待办', query: { open: true }, count: 'open' },
  { key: 'done', label: '已办', query: { done: true }, count: 'done' },
  { key: 'all', label: '全部', query: {}, count: 'all' },
];

export function OutboxPage() {
  return (
    <div>
      <PageHeader
        title={t('我的协查')}
        extra={
          <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate('/new')}>
            {t('新建协查')}
          </Button>
        }
      />
      <CaseListView testId="outbox" box="outbox" tabs={TABS} unitField="issuingUnit" />
    </div>
  );
}
