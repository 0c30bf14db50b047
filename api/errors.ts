/**
 * How the API says "no": every error becomes an RFC 9457 problem with a Chinese detail and the failing
 * field's pointer; input PostgreSQL cannot store (NUL, lone surrogates) or that nests absurdly deep is
 * refused up front, since it would otherwise fail later, inside a projection, on every retry.
 */
import type { FastifyError } from 'fastify';
import { Problem, type ProblemField } from './problem.ts';

export const BODY_LIMIT_BYTES = 1024 * 1024;

function validationPointer(
  context: string | undefined,
  v: { instancePath: string; keyword: string; params: Record<string, unknown> },
) {
  const base = `/${context ?? 'body'}${v.instancePath}`;
  if (v.keyword === 'required') return `${base}/${String(v.params.missingProperty)}`;
  if (v.keyword === 'additionalProperties') return `${base}/${String(v.params.additionalProperty)}`;
  return base;
}

const VALIDATION_MESSAGES: Record<string, string> = {
  required: '缺少必填字段',
  additionalProperties: '不允许的字段',
  type: '类型不正确',
  format: '格式不正确',
  minLength: '内容过短',
  maxLength: '内容过长',
  enum: '取值不在允许范围内',
  const: '取值不在允许范围内',
  anyOf: '取值不在允许范围内',
  pattern: '格式不正确',
};

/** Maps any error to a problem; 5xx internals are logged, never shown. */
export function toProblem(
  err: FastifyError & { validation?: unknown[]; validationContext?: string },
): Problem {
  if (err instanceof Problem) return err;
  if (Array.isArray(err.validation)) {
    const errors = (
      err.validation as {
        instancePath: string;
        keyword: string;
        params: Record<string, unknown>;
        message?: string;
      }[]
    ).map((v) => ({
      pointer: validationPointer(err.validationContext, v),
      detail: VALIDATION_MESSAGES[v.keyword] ?? v.message ?? '不符合要求',
    }));
    return new Problem(
      400,
      '请求有误',
      `请求参数不符合要求：${errors.map((e) => `${e.pointer} ${e.detail}`).join('；')}`,
      errors,
    );
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new Problem(413, '请求内容过大', `请求内容超过 ${BODY_LIMIT_BYTES / 1024 / 1024} MB 的上限`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new Problem(415, '不支持的内容类型', '请以 application/json 提交');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new Problem(400, '请求有误', '请求体为空，请提交 JSON');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new Problem(400, '请求有误', '请求体不是有效的 JSON');
  }
  const status = err.statusCode ?? 500;
  if (status === 429) return new Problem(429, '请求过于频繁', '请求过于频繁，请稍后再试');
  if (status >= 400 && status < 500) {
    return new Problem(
      status,
      '请求有误',
      err instanceof SyntaxError ? '请求体不是有效的 JSON' : '请求无法处理，请检查后重试',
    );
  }
  return new Problem(500, '服务器内部错误', '服务器内部错误，请稍后再试；如持续出现请联系管理员');
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const unstorable = (s: string) => s.includes('\u0000') || LONE_SURROGATE.test(s);
/** Deep enough for any catalog template; deeper input is refused before it reaches Temporal or jsonb. */
export const MAX_INPUT_DEPTH = 32;

/** The pointer of the first value PostgreSQL could not store or that is nested too deeply, if any. */
export function badInputAt(value: unknown, pointer: string, depth = 0): ProblemField | undefined {
  if (typeof value === 'string')
    return unstorable(value)
      ? { pointer, detail: '含有不允许的字符（空字符或不完整的 Unicode 字符）' }
      : undefined;
  // Raw bodies (attachments) are bytes, not text: walking them would visit every byte.
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return undefined;
  if (depth >= MAX_INPUT_DEPTH) return { pointer, detail: `嵌套层级超过 ${MAX_INPUT_DEPTH} 层` };
  for (const [key, v] of Object.entries(value)) {
    if (unstorable(key)) return { pointer, detail: '字段名含有不允许的字符' };
    const found = badInputAt(v, `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/**
 * Request validators: bodies are checked strictly (a number where a string is due is a client error, not
 * silently converted), while query, params and headers — which are always text — are coerced to the
 * declared types. Same defaults as Fastify's own compiler otherwise.
 */
