/** Excel files as a requesting unit fills them in (batches from Excel, issue 15), for API and browser tests. */
import ExcelJS from 'exceljs';

/** A resident ID number with its GB 11643 check character, from 17 digits. */
export function residentId(first17: string): string {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((s, d, i) => s + Number(d) * (weights[i] ?? 0), 0);
  return first17 + '10X98765432'[sum % 11];
}

/** A distinct valid resident ID number per n (0–999). */
export const idFor = (n: number) => residentId(`37030319800101${String(n).padStart(3, '0')}`);

/** The same ID number with a wrong check character. */
export const withWrongCheck = (id: string) => id.slice(0, 17) + (id.endsWith('0') ? '1' : '0');

/** The template's headers for HJ-001 (户籍信息证明). */
export const HJ_HEADERS = ['核验对象姓名', '证件类型', '证件号码', '用途', '申请人申报的户籍地址'];

/** An .xlsx with the headers, then the rows (null: an empty row). */
export async function batchWorkbook(
  rows: Array<Array<string | number> | null>,
  headers = HJ_HEADERS,
): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('核验对象');
  ws.addRow(headers);
  for (const r of rows) ws.addRow(r ?? []);
  return Buffer.from(await wb.xlsx.writeBuffer());
}
