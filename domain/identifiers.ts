/**
 * Check characters of identifiers, with no Node.js import: the API refuses a bad one (422) and the web
 * application (web/src) imports this same file to refuse it before anything is sent.
 *
 * - 公民身份号码, GB 11643-1999: 17 digits and a check character (ISO 7064 MOD 11-2) over a real birth date.
 * - 统一社会信用代码, GB 32100-2015: 17 characters from the code's alphabet and a check character (MOD 31).
 */

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

/** 18-character resident ID number with a valid GB 11643 check character and a real birth date. */
export function isValidResidentId(id: string): boolean {
  if (!/^\d{17}[\dX]$/.test(id)) return false;
  const birth = id.slice(6, 14);
  const y = Number(birth.slice(0, 4));
  const m = Number(birth.slice(4, 6));
  const d = Number(birth.slice(6, 8));
  const date = new Date(Date.UTC(y, m - 1, d));
  if (y < 1900 || date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d)
    return false;
  const sum = ID_WEIGHTS.reduce((acc, w, i) => acc + w * Number(id[i]), 0);
  return ID_CHECK[sum % 11] === id[17];
}

const USCC_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** 18-character unified social credit code with a valid GB 32100 check character. */
export function isValidCreditCode(code: string): boolean {
  if (!/^[0-9A-HJ-NP-RTUWXY]{2}\d{6}[0-9A-HJ-NP-RTUWXY]{10}$/.test(code)) return false;
  const sum = USCC_WEIGHTS.reduce((acc, w, i) => acc + w * USCC_CHARS.indexOf(code[i] as string), 0);
  const check = USCC_CHARS[(31 - (sum % 31)) % 31];
  return check === code[17];
}

/** The subject's identifier by its kind: a resident ID for a person, a credit code for a company. */
export function isValidSubjectId(kind: 'person' | 'company', id: string): boolean {
  return kind === 'person' ? isValidResidentId(id) : isValidCreditCode(id);
}

/**
 * Why a subject's identifier is refused, in Chinese, or undefined when it is valid: the same words in the
 * API's 422 and next to the field in the browser.
 */
export function subjectIdError(kind: 'person' | 'company', id: string): string | undefined {
  if (isValidSubjectId(kind, id)) return undefined;
  if (kind === 'person')
    return /^\d{17}[\dX]$/.test(id)
      ? '不是有效的公民身份号码：出生日期或校验位不符（GB 11643），请核对'
      : '公民身份号码应为 18 位：17 位数字和 1 位校验码（数字或 X）';
  return /^[0-9A-HJ-NP-RTUWXY]{2}\d{6}[0-9A-HJ-NP-RTUWXY]{10}$/.test(id)
    ? '不是有效的统一社会信用代码：校验位不符（GB 32100），请核对'
    : '统一社会信用代码应为 18 位数字或大写字母（不含 I、O、S、V、Z）';
}
