/** The administration's dialogs: a form that posts its values; field errors from the server land on their fields. */
import { Form, Modal } from 'antd';
import { type ReactNode, useState } from 'react';
import { ApiError } from '../../api.ts';
import { ProblemAlert } from '../../components.tsx';
import { t } from '../../i18n.ts';

/** A dialog with a form that posts its values; field errors from the server land on their fields. */
export function FormModal<V extends Record<string, unknown>>({
  title,
  open,
  initial,
  onClose,
  onSubmit,
  children,
  okText,
  width = 720,
}: {
  title: string;
  open: boolean;
  initial?: Partial<V>;
  onClose: () => void;
  onSubmit: (v: V) => Promise<unknown>;
  children: ReactNode;
  okText?: string;
  width?: number;
}) {
  const [form] = Form.useForm<V>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    let v: V;
    try {
      v = await form.validateFields();
    } catch {
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await onSubmit(v);
      onClose();
    } catch (e) {
      setError(e);
      if (e instanceof ApiError)
        form.setFields(
          e.errors
            .filter((f) => f.pointer.startsWith('/body/'))
            .map((f) => ({ name: f.pointer.slice(6).split('/')[0] as never, errors: [f.detail] })),
        );
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      open={open}
      title={title}
      okText={okText ?? t('保存')}
      cancelText={t('取消')}
      onOk={() => void submit()}
      onCancel={onClose}
      confirmLoading={busy}
      destroyOnHidden
      width={width}
    >
      <ProblemAlert error={error} />
      <Form form={form} layout="vertical" initialValues={initial} disabled={busy} preserve={false}>
        {children}
      </Form>
    </Modal>
  );
}
