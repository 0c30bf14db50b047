/**
 * What an uploaded file really is, from its first bytes (never from its name or declared type):
 * PDF, OFD (GB/T 33190: a ZIP package with OFD.xml at its root), JPEG or PNG.
 */
export type AttachmentMediaType = 'application/pdf' | 'application/ofd' | 'image/jpeg' | 'image/png';

export const ATTACHMENT_MEDIA_TYPES: readonly AttachmentMediaType[] = [
  'application/pdf',
  'application/ofd',
  'image/jpeg',
  'image/png',
];

const startsWith = (buf: Buffer, bytes: number[]) => bytes.every((b, i) => buf[i] === b);

/** True when `buf` is a ZIP archive whose central directory lists `OFD.xml` at the root. */
function isOfdPackage(buf: Buffer): boolean {
  if (!startsWith(buf, [0x50, 0x4b, 0x03, 0x04])) return false;
  // End of central directory: 22 bytes plus a comment of at most 65535 bytes, at the end of the file.
  const floor = Math.max(0, buf.length - 22 - 0xffff);
  for (let eocd = buf.length - 22; eocd >= floor; eocd--) {
    if (buf.readUInt32LE(eocd) !== 0x06054b50) continue;
    const entries = buf.readUInt16LE(eocd + 10);
    let at = buf.readUInt32LE(eocd + 16);
    for (let i = 0; i < entries && at + 46 <= buf.length; i++) {
      if (buf.readUInt32LE(at) !== 0x02014b50) return false;
      const nameLength = buf.readUInt16LE(at + 28);
      const name = buf.toString('utf8', at + 46, Math.min(buf.length, at + 46 + nameLength));
      if (name === 'OFD.xml') return true;
      at += 46 + nameLength + buf.readUInt16LE(at + 30) + buf.readUInt16LE(at + 32);
    }
    return false;
  }
  return false;
}

export function sniffMediaType(buf: Buffer): AttachmentMediaType | undefined {
  if (buf.length < 8) return undefined;
  if (startsWith(buf, [0x25, 0x50, 0x44, 0x46, 0x2d])) return 'application/pdf'; // %PDF-
  if (startsWith(buf, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith(buf, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (buf.length >= 22 && isOfdPackage(buf)) return 'application/ofd';
  return undefined;
}

/** A safe Content-Disposition for a download: ASCII fallback plus the UTF-8 name (RFC 6266 / 5987). */
export function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}
