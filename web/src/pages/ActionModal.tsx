/** A small form in a dialog for one case action (reason, unit, tier, channel…), with problem display. */
import { App, Button, Form, Input, Modal, Radio, Select } from 'antd';
import { useEffect, useState } from 'react';
import { ApiError, type Attachment, api, newIdempotencyKey, uploadAttachment } from '../api.ts';
import { ProblemAlert } from '../components.tsx';
import { FilePicker } from '../file-picker.tsx';
import { t } from '../i18n.ts';

export interface ActionField {
  name: string;
  label: string;
  /** `files`: uploaded attachments, sent as their ids. */
  kind: 'text' | 'textarea' | 'select' | 'radio' | 'files';
  options?: { value: string; label: string }[];
  required?: boolean;
  /** Minimum length (the API asks 2 characters for reasons). */
  min?: number;
  max?: number;
  extra?: string;
  initial?: string;
}

export interface ActionSpec {
  title: string;
  path: string;
  okText: string;
  fields: ActionField[];
  danger?: boolean;
  intro?: string;
  /** Turns the form's values into the request body (default: as they are, blanks left out). */
  body?: (values: Record<string, string | undefined>) => unknown;
  done: string;
}

/** Uploads files as attachments (PDF, OFD, JPEG, PNG); the form field's value is their ids. */
function FilesInput({
  id,
  value,
  onChange,
  onError,
}: {
  id: string;
  value?: string[];
  onChange?: (ids: string[]) => void;
  onError: (e: unknown) => void;
}) {
  const [files, setFiles] = useState<Attachment[]>([]);
  const [uploading, setUploading] = useState(false);
  const ids = value ?? [];
  const upload = async (list: File[] | null) => {
    if (!list?.length) return;
    setUploading(true);
    try {
      const added: Attachment[] = [];
      for (const f of Array.from(list)) added.push(await uploadAttachment(f));
      setFiles((prev) => [...prev, ...added]);
      onChange?.([...ids, ...added.map((a) => a.id)]);
    } catch (e) {
      onError(e);
    } finally {
      setUploading(false);
    }
  };
  return (
    <div>
      <FilePicker
        id={id}
        disabled={ids.length >= 10}
        busy={uploading}
        onFiles={(list) => void upload(list)}
      />
      {ids.length > 0 && (
        <ul style={{ margin: '8px 0 0', paddingInlineStart: 20 }}>
          {files
            .filter((f) => ids.includes(f.id))
            .map((f) => (
              <li key={f.id}>
                {f.fileName}（{Math.ceil(f.sizeBytes / 1024)} KB）{' '}
                <Button size="small" type="link" onClick={() => onChange?.(ids.filter((x) => x !== f.id))}>
                  {t('移除')}
                </Button>
              </li>
            ))}
        </ul>
      )}
    </div>
  );
}

export function ActionModal({
  spec,
  onClose,
  onDone,
}: {
  spec: ActionSpec | undefined;
  onClose: () => void;
  onDone: () => void;
}) {
  const [form] = Form.useForm();
  const { message } = App.useApp();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [key, setKey] = useState(newIdempotencyKey);

  useEffect(() => {
    if (!spec) return;
    form.resetFields();
    form.setFieldsValue(Object.fromEntries(spec.fields.map((f) => [f.name, f.initial])));
    setError(undefined);
    setKey(newIdempotencyKey());
  }, [spec, form]);

  if (!spec) return null;

  const submit = async () => {
    let values: Record<string, string | undefined>;
    try {
      values = await form.validateFields();
    } catch {
      return;
    }
    const cleaned = Object.fromEntries(
      Object.entries(values)
        .filter(([, v]) => v !== undefined && v !== '')
        .map(([k, v]) => [k, typeof v === 'string' ? v.trim() : v]),
    );
    setBusy(true);
    setError(undefined);
    try {
      await api.post(spec.path, spec.body ? spec.body(cleaned) : cleaned, key);
      void message.success(spec.done);
      onDone();
    } catch (e) {
      setError(e);
      if (e instanceof ApiError) {
        form.setFields(
          e.errors
            .filter((f) => f.pointer.startsWith('/body/'))
            .map((f) => ({ name: f.pointer.slice(6).split('/')[0] as string, errors: [f.detail] })),
        );
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open
      title={spec.title}
      okText={spec.okText}
      cancelText={t('取消')}
      onOk={() => void submit()}
      onCancel={onClose}
      confirmLoading={busy}
      okButtonProps={{ danger: spec.danger }}
      destroyOnHidden
    >
      {spec.intro && <p>{spec.intro}</p>}
      <ProblemAlert error={error} />
      <Form form={form} layout="vertical" disabled={busy} onFinish={() => void submit()}>
        {spec.fields.map((f) => (
          <Form.Item
            key={f.name}
            name={f.name}
            label={f.label}
            extra={f.extra}
            rules={[
              ...(f.required ? [{ required: true, whitespace: true, message: t('必填') }] : []),
              ...(f.min ? [{ min: f.min, message: t('至少 {n} 个字', { n: f.min }) }] : []),
            ]}
          >
            {f.kind === 'textarea' ? (
              <Input.TextArea rows={3} maxLength={f.max ?? 500} showCount />
            ) : f.kind === 'select' ? (
              <Select allowClear={!f.required} options={f.options} placeholder={t('请选择')} />
            ) : f.kind === 'radio' ? (
              <Radio.Group options={f.options} />
            ) : f.kind === 'files' ? (
              <FilesInput id={`action-${f.name}`} onError={setError} />
            ) : (
              <Input maxLength={f.max ?? 500} />
            )}
          </Form.Item>
        ))}
      </Form>
    </Modal>
  );
}
