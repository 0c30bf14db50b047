/**
 * 批量发起 (batches from Excel, issue 15): the requesting unit picks a catalog item, downloads its template,
 * uploads the filled list (antd Upload; the file is the request body), reads the validation report (counts and
 * the rows with errors, or the whole report as XLSX), submits, follows the progress, and downloads the result
 * (文号, status, errors). The same file uploaded again is the same batch: nothing is started twice.
 */
import { DownloadOutlined, UploadOutlined } from '@ant-design/icons';
import {
  Alert,
  App,
  Button,
  Card,
  Descriptions,
  Form,
  Popconfirm,
  Progress,
  Select,
  Space,
  Table,
  Tag,
  Typography,
  Upload,
} from 'antd';
import { useCallback, useEffect, useState } from 'react';
import { ApiError, api, currentSession, downloadFile, type FieldError } from '../api.ts';
import { PageHeader, ProblemAlert } from '../components.tsx';
import { useCatalog } from '../data.ts';
import { t } from '../i18n.ts';
import { fmt } from '../time.ts';

interface RowError {
  column: string;
  detail: string;
}

interface Batch {
  id: string;
  catalogCode: string;
  catalogName: string;
  fileName: string;
  status: 'validated' | 'submitted' | 'completed';
  statusLabel: string;
  total: number;
  valid: number;
  invalid: number;
  submitted: number;
  started: number;
  failed: number;
  pending: number;
  createdAt: string;
  submittedAt: string | null;
  completedAt: string | null;
  errorRows?: Array<{ row: number; subject: string; errors: RowError[] }>;
}

const XLSX_ACCEPT = '.xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** Sends the file itself as the body (like attachments) and returns the batch's report. */
async function uploadBatch(file: File, catalogItem: string): Promise<Batch> {
  const qs = new URLSearchParams({ catalogItem, filename: file.name });
  const res = await fetch(`/api/v1/batches?${qs}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${currentSession()?.token ?? ''}`,
      'content-type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    },
    body: file,
  }).catch(() => {
    throw new ApiError(0, t('无法连接服务器，请检查网络后重试'), t('无法连接服务器，请检查网络后重试'));
  });
  const data = (await res.json().catch(() => ({}))) as Partial<{
    title: string;
    detail: string;
    errors: FieldError[];
  }>;
  if (!res.ok)
    throw new ApiError(
      res.status,
      data.title ?? `HTTP ${res.status}`,
      data.detail ?? '请求无法处理，请检查后重试',
      data.errors,
    );
  return data as unknown as Batch;
}

const statusColor = (s: Batch['status']) =>
  s === 'completed' ? 'green' : s === 'submitted' ? 'processing' : 'blue';

export function BatchesPage() {
  const catalog = useCatalog();
  const { message } = App.useApp();
  const [item, setItem] = useState<string>();
  const [batch, setBatch] = useState<Batch>();
  const [list, setList] = useState<Batch[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();

  const loadList = useCallback(async () => {
    try {
      setList((await api.get<{ items: Batch[] }>('/api/v1/batches')).items);
    } catch (e) {
      setError(e);
    }
  }, []);
  useEffect(() => {
    void loadList();
  }, [loadList]);

  // While the batch is being started, its progress every 2 s.
  useEffect(() => {
    if (batch?.status !== 'submitted') return;
    const timer = setInterval(async () => {
      try {
        const next = await api.get<Batch>(`/api/v1/batches/${encodeURIComponent(batch.id)}`);
        setBatch(next);
        if (next.status === 'completed') void loadList();
      } catch (e) {
        setError(e);
      }
    }, 2000);
    return () => clearInterval(timer);
  }, [batch?.id, batch?.status, loadList]);

  const open = async (id: string) => {
    setError(undefined);
    try {
      setBatch(await api.get<Batch>(`/api/v1/batches/${encodeURIComponent(id)}`));
    } catch (e) {
      setError(e);
    }
  };

  const onFile = async (file: File) => {
    if (!item) return;
    setBusy(true);
    setError(undefined);
    try {
      const b = await uploadBatch(file, item);
      setBatch(b);
      void loadList();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const submit = async () => {
    if (!batch) return;
    setBusy(true);
    try {
      setBatch(await api.post<Batch>(`/api/v1/batches/${encodeURIComponent(batch.id)}/submit`));
      void message.success(t('已提交，正在逐行发起协查'));
      void loadList();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const download = (path: string, name: string) =>
    downloadFile(path, {}, name).catch((e: unknown) => setError(e));

  const items = catalog.items;
  const done = batch ? batch.started + batch.failed : 0;
  return (
    <>
      <PageHeader title={t('批量发起')} />
      <Typography.Paragraph type="secondary">
        {t(
          '适用于年度低保、社保待遇资格等成批复核：下载所选事项的模板，每行填写一个核验对象，上传后系统逐行校验；确认校验报告后提交，系统为每个校验通过的行发起一件协查。同一文件重复上传视为同一批次，不会重复发起。每个文件至多 10000 行。',
        )}
      </Typography.Paragraph>
      <ProblemAlert error={error} onClose={() => setError(undefined)} />
      <Card title={t('上传名单')} style={{ marginBottom: 16 }}>
        <Form layout="inline">
          <Form.Item label={t('证明事项')} required>
            <Select
              id="batch-item"
              style={{ width: 280 }}
              placeholder={t('请选择')}
              value={item}
              onChange={setItem}
              options={items.map((i) => ({ value: i.code, label: `${i.name}（${i.code}）` }))}
            />
          </Form.Item>
          <Form.Item>
            <Button
              icon={<DownloadOutlined />}
              disabled={!item}
              onClick={() =>
                item &&
                download(
                  `/api/v1/batches/template.xlsx?catalogItem=${encodeURIComponent(item)}`,
                  '批量发起模板.xlsx',
                )
              }
            >
              {t('下载模板')}
            </Button>
          </Form.Item>
          <Form.Item>
            <Upload
              accept={XLSX_ACCEPT}
              showUploadList={false}
              fileList={[]}
              disabled={!item || busy}
              beforeUpload={(file) => {
                void onFile(file as File);
                return false;
              }}
            >
              <Button type="primary" icon={<UploadOutlined />} disabled={!item || busy} loading={busy}>
                {t('选择文件并上传')}
              </Button>
            </Upload>
          </Form.Item>
        </Form>
      </Card>

      {batch && (
        <Card
          title={
            <Space>
              {t('批次')}
              <span>{batch.fileName}</span>
              <Tag color={statusColor(batch.status)} data-batch-status={batch.status}>
                {batch.statusLabel}
              </Tag>
            </Space>
          }
          style={{ marginBottom: 16 }}
          extra={
            <Space wrap>
              <Button
                icon={<DownloadOutlined />}
                onClick={() =>
                  download(`/api/v1/batches/${encodeURIComponent(batch.id)}/report.xlsx`, '校验报告.xlsx')
                }
              >
                {t('下载校验报告')}
              </Button>
              {batch.status !== 'validated' && (
                <Button
                  icon={<DownloadOutlined />}
                  onClick={() =>
                    download(`/api/v1/batches/${encodeURIComponent(batch.id)}/result.xlsx`, '发起结果.xlsx')
                  }
                >
                  {t('下载发起结果')}
                </Button>
              )}
            </Space>
          }
        >
          <Descriptions size="small" column={{ xs: 1, md: 3 }} style={{ marginBottom: 16 }}>
            <Descriptions.Item
              label={t('证明事项')}
            >{`${batch.catalogName}（${batch.catalogCode}）`}</Descriptions.Item>
            <Descriptions.Item label={t('上传时间')}>{fmt(batch.createdAt)}</Descriptions.Item>
            <Descriptions.Item label={t('数据行')}>{batch.total}</Descriptions.Item>
            <Descriptions.Item label={t('校验通过')}>
              <span data-count="valid">{batch.valid}</span>
            </Descriptions.Item>
            <Descriptions.Item label={t('校验未通过')}>
              <span data-count="invalid">{batch.invalid}</span>
            </Descriptions.Item>
            {batch.status !== 'validated' && (
              <>
                <Descriptions.Item label={t('已提交')}>{batch.submitted}</Descriptions.Item>
                <Descriptions.Item label={t('已发起')}>
                  <span data-count="started">{batch.started}</span>
                </Descriptions.Item>
                <Descriptions.Item label={t('发起失败')}>
                  <span data-count="failed">{batch.failed}</span>
                </Descriptions.Item>
              </>
            )}
          </Descriptions>
          {batch.status !== 'validated' && (
            <Progress
              percent={batch.submitted ? Math.round((done / batch.submitted) * 100) : 100}
              status={batch.status === 'completed' ? (batch.failed ? 'exception' : 'success') : 'active'}
              format={() => `${done} / ${batch.submitted}`}
              style={{ marginBottom: 16 }}
            />
          )}
          {batch.status === 'validated' && (
            <Space orientation="vertical" style={{ width: '100%', marginBottom: 16 }}>
              <Alert
                type={batch.invalid ? 'warning' : 'success'}
                showIcon
                title={
                  batch.invalid
                    ? t(
                        `有 ${batch.invalid} 行未通过校验，提交后只发起校验通过的 ${batch.valid} 行；也可修改文件后重新上传`,
                      )
                    : t(`全部 ${batch.valid} 行校验通过，尚未发起任何协查`)
                }
              />
              <Popconfirm
                title={t(`确认为 ${batch.valid} 个核验对象各发起一件「${batch.catalogName}」协查？`)}
                okText={t('确认发起')}
                cancelText={t('取消')}
                onConfirm={submit}
                disabled={batch.valid === 0}
              >
                <Button type="primary" disabled={batch.valid === 0 || busy} loading={busy}>
                  {t(`提交发起（${batch.valid} 件）`)}
                </Button>
              </Popconfirm>
            </Space>
          )}
          {(batch.errorRows?.length ?? 0) > 0 && (
            <Table
              size="small"
              rowKey="row"
              title={() => t('校验未通过的行')}
              dataSource={batch.errorRows}
              pagination={{ pageSize: 10, hideOnSinglePage: true }}
              columns={[
                { title: t('行号'), dataIndex: 'row', width: 80 },
                { title: t('核验对象'), dataIndex: 'subject', width: 260 },
                {
                  title: t('错误说明'),
                  dataIndex: 'errors',
                  render: (errs: RowError[]) => errs.map((e) => `「${e.column}」${e.detail}`).join('；'),
                },
              ]}
            />
          )}
        </Card>
      )}

      <Card title={t('本单位的批次')}>
        <Table
          size="small"
          rowKey="id"
          dataSource={list}
          pagination={false}
          locale={{ emptyText: t('还没有批次：选择证明事项，下载模板填写后上传') }}
          columns={[
            { title: t('文件'), dataIndex: 'fileName' },
            { title: t('证明事项'), dataIndex: 'catalogName' },
            { title: t('上传时间'), dataIndex: 'createdAt', render: (v: string) => fmt(v) },
            {
              title: t('状态'),
              dataIndex: 'statusLabel',
              render: (v: string, b: Batch) => <Tag color={statusColor(b.status)}>{v}</Tag>,
            },
            { title: t('通过 / 未通过'), render: (_: unknown, b: Batch) => `${b.valid} / ${b.invalid}` },
            { title: t('已发起'), dataIndex: 'started' },
            {
              title: t('操作'),
              render: (_: unknown, b: Batch) => (
                <Button size="small" onClick={() => open(b.id)}>
                  {t('查看')}
                </Button>
              ),
            },
          ]}
        />
      </Card>
    </>
  );
}
