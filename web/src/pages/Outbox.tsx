/** My requests: the requesting unit's cases, their issuing unit, deadline countdown and result. */
import { PlusOutlined } from '@ant-design/icons';
import { Button, Segmented } from 'antd';
import { useState } from 'react';
import { PageHeader } from '../components.tsx';
import { t } from '../i18n.ts';
import { navigate } from '../router.tsx';
import { CaseListView } from './CaseList.tsx';

export function OutboxPage() {
  const [filter, setFilter] = useState<'open' | 'all'>('open');
  return (
    <div>
      <PageHeader
        title={t('我的协查')}
        extra={
          <>
            <Segmented
              aria-label={t('状态')}
              value={filter}
              onChange={(v) => setFilter(v as 'open' | 'all')}
              options={[
                { value: 'open', label: t('未办结') },
                { value: 'all', label: t('全部') },
              ]}
            />
            <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate('/new')}>
              {t('新建协查')}
            </Button>
          </>
        }
      />
      <CaseListView
        testId="outbox"
        unitField="issuingUnit"
        query={{ box: 'outbox', open: filter === 'open' ? true : undefined }}
      />
    </div>
  );
}
