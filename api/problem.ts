/**
 * RFC 9457 problem details: every error the API answers is `application/problem+json` with a Chinese,
 * actionable `detail` and, for validation errors, the failing field's path in `errors`.
 */
import { Type } from 'typebox';

export interface ProblemField {
  /** JSON pointer of the failing field, e.g. `/body/subject/idNumber`. */
  pointer: string;
  detail: string;
}

export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly errors?: ProblemField[],
    readonly code?: string,
  ) {
    super(detail);
    this.name = 'Problem';
  }

  body(instance?: string) {
    return {
      type: `about:blank`,
      title: this.title,
      status: this.status,
      detail: this.detail,
      ...(this.code ? { code: this.code } : {}),
      ...(instance ? { instance } : {}),
      ...(this.errors?.length ? { errors: this.errors } : {}),
    };
  }
}

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ pointer: Type.String(), detail: Type.String() }))),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details' },
);

export const badRequest = (detail: string, errors?: ProblemField[]) =>
  new Problem(400, '请求有误', detail, errors);
export const unauthorized = (detail = '请先登录') => new Problem(401, '未登录或登录已过期', detail);
export const forbidden = (detail = '无权执行此操作') => new Problem(403, '无权操作', detail);
export const notFound = (detail = '未找到该记录') => new Problem(404, '未找到', detail);
export const conflict = (detail: string, code?: string) =>
  new Problem(409, '状态冲突', detail, undefined, code);
export const unprocessable = (detail: string, errors?: ProblemField[]) =>
  new Problem(422, '内容不符合要求', detail, errors);
export const unavailable = (detail: string) => new Problem(503, '服务暂不可用', detail);
