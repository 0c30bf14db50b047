/** Shared schema building blocks for route declarations (OpenAPI comes from these). */
import { type TSchema, Type } from 'typebox';
import { ProblemSchema } from '../problem.ts';

export const Problem = Type.Ref('Problem');
export { ProblemSchema };

/** Every status an authenticated route can answer besides its successes. */
export function errorResponses(...extra: (400 | 403 | 404 | 409 | 413 | 415 | 422 | 504)[]) {
  const statuses = new Set<number>([400, 401, 429, 500, ...extra]);
  return Object.fromEntries([...statuses].map((s) => [s, Problem])) as Record<number, TSchema>;
}

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      pattern: '^[A-Za-z0-9_.:-]{8,100}$',
      description: '客户端生成的幂等键（8–100 位字母、数字或 _ . : -）：重试同一请求只执行一次',
    }),
  ),
});

export const StaffSchema = Type.Object({
  id: Type.String(),
  username: Type.String(),
  name: Type.String(),
  unitCode: Type.String(),
  unitKind: Type.Union([Type.Literal('department'), Type.Literal('office')]),
  role: Type.Union([
    Type.Literal('liaison'),
    Type.Literal('agent'),
    Type.Literal('supervisor'),
    Type.Literal('admin'),
    Type.Literal('reviewer'),
  ]),
  partnerId: Type.Union([Type.String(), Type.Null()]),
  isDemo: Type.Boolean(),
  mustChangePassword: Type.Boolean(),
});
