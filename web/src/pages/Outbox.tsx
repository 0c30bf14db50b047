/** My requests: the requesting unit's cases, their issuing unit, deadline countdown and result. */
import { PlusOutlined } from '@ant-design/icons';
import { Button } from 'antd';
import { PageHeader } from '../components.tsx';
import { t } from '../i18n.ts';
import { navigate } from '../router.tsx';
import { CaseListView } from './CaseList.tsx';
import { OUTBOX_TABS, OUTBOX_TITLE } from './list-tabs.ts';

/** 待办: still to wait for or act on (a returned case is the requester's to re-route or close). */

export function OutboxPage() {
  return (
    <div>
      <PageHeader
        title={t(OUTBOX_TITLE)}
        extra={
          <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate('/new')}>
            {t('新建协查')}
          </Button>
        }
      />
      <CaseListView testId="outbox" box="outbox" tabs={OUTBOX_TABS} unitField="issuingUnit" />
    </div>
  );
}
