/**
 * Catalog items (证明事项) and validation of a case's fields against the item's JSON Schema templates
 * (Art. 4): the form and its checks come from data, not code.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { and, desc, eq } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { catalogItems } from '../../db/schema.ts';
import type { ProblemField } from '../problem.ts';

export type CatalogItem = typeof catalogItems.$inferSelect;

const ajv = new Ajv({ allErrors: true, strict: false });
(addFormats as unknown as (a: Ajv) => void)(ajv);
const compiled = new Map<string, ValidateFunction>();

function validatorFor(schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema);
  let fn = compiled.get(key);
  if (!fn) {
    fn = ajv.compile(schema);
    compiled.set(key, fn);
  }
  return fn;
}

function fieldError(base: string, e: ErrorObject, schema: Record<string, unknown>): ProblemField {
  let pointer = `${base}${e.instancePath}`;
  if (e.keyword === 'required') pointer += `/${(e.params as { missingProperty: string }).missingProperty}`;
  if (e.keyword === 'additionalProperties')
    pointer += `/${(e.params as { additionalProperty: string }).additionalProperty}`;
  const prop = pointer.split('/').pop() ?? '';
  const title = (schema.properties as Record<string, { title?: string }> | undefined)?.[prop]?.title ?? prop;
  const messages: Record<string, string> = {
    required: `请填写「${title}」`,
    additionalProperties: `「${prop}」不是该事项的字段`,
    type: `「${title}」类型不正确`,
    enum: `「${title}」的取值不在允许范围内`,
    minLength: `请填写「${title}」`,
    maxLength: `「${title}」过长`,
    format: `「${title}」格式不正确`,
    pattern: `「${title}」格式不正确`,
  };
  return { pointer, detail: messages[e.keyword] ?? `「${title}」不符合要求` };
}

/** Field errors with JSON pointers under `base` (e.g. `/body/fields`), or an empty list. */
export function validateAgainst(
  schema: Record<string, unknown>,
  value: unknown,
  base: string,
): ProblemField[] {
  const validate = validatorFor(schema);
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => fieldError(base, e, schema));
}

export async function currentCatalogItem(db: Db, code: string): Promise<CatalogItem | undefined> {
  const [item] = await db
    .select()
    .from(catalogItems)
    .where(and(eq(catalogItems.code, code), eq(catalogItems.active, true)))
    .orderBy(desc(catalogItems.version))
    .limit(1);
  return item;
}

export async function catalogItemVersion(
  db: Db,
  code: string,
  version: number,
): Promise<CatalogItem | undefined> {
  const [item] = await db
    .select()
    .from(catalogItems)
    .where(and(eq(catalogItems.code, code), eq(catalogItems.version, version)));
  return item;
}
