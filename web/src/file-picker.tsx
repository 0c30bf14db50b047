/**
 * Choosing attachments: antd's Upload as a button in Chinese (选择文件), never the browser's own file input
 * (its "Choose Files / No file chosen" follows the browser's language). Files go to `onFiles`; the caller
 * uploads them and lists what is attached.
 */
import { UploadOutlined } from '@ant-design/icons';
import { Button, Spin, Upload } from 'antd';
import { t } from './i18n.ts';

export const ATTACHMENT_ACCEPT = '.pdf,.ofd,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png';

export function FilePicker({
  id,
  disabled,
  busy,
  onFiles,
}: {
  id?: string;
  disabled?: boolean;
  busy?: boolean;
  onFiles: (files: File[]) => void;
}) {
  return (
    <span className="file-picker">
      <Upload
        id={id}
        multiple
        accept={ATTACHMENT_ACCEPT}
        disabled={disabled || busy}
        showUploadList={false}
        fileList={[]}
        beforeUpload={(file, list) => {
          // Called once per chosen file: hand over the whole choice once.
          if (file === list[0]) onFiles(list as File[]);
          return false;
        }}
      >
        <Button icon={<UploadOutlined />} disabled={disabled || busy}>
          {t('选择文件')}
        </Button>
      </Upload>
      {busy && <Spin size="small" style={{ marginInlineStart: 8 }} />}
    </span>
  );
}
