/**
 * Reference data the office administrators and the units' liaisons keep: units, staff (A/B partners,
 * absences), the staffing rule (Art. 6), and the checks on catalog templates (Art. 4).
 */
import { randomInt } from 'node:crypto';
import { Ajv, type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import { and, eq, gt, inArray, lte } from 'drizzle-orm';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import type { Db } from '../../db/client.ts';
import { cases, staff, staffAbsences, units } from '../../db/schema.ts';
import { passwordPolicyViolation, type StaffContext, staffOf } from '../plugins/auth.ts';
import { Problem, type ProblemField } from '../problem.ts';
import { recordAudit } from './audit.ts';
import type { CaseGateway } from './case-gateway.ts';

export type UnitRow = typeof units.$inferSelect;
export type StaffRow = typeof staff.$inferSelect;

export const unitView = (u: UnitRow) => ({
  code: u.code,
  name: u.name,
  docPrefix: u.docPrefix,
  parentCode: u.parentCode,
  kind: u.kind,
  canRequest: u.canRequest,
  canIssue: u.canIssue,
  contact: u.contact,
  createdAt: u.createdAt.toISOString(),
});

/** A staff member as administrators and liaisons see them: never the password hash. */
export const staffView = (s: StaffRow) => ({
  id: s.id,
  username: s.username,
  displayName: s.displayName,
  unitCode: s.unitCode,
  role: s.role,
  partnerId: s.partnerId,
  active: s.active,
  mustChangePassword: s.mustChangePassword,
  lockedUntil: s.lockedUntil && s.lockedUntil.getTime() > Date.now() ? s.lockedUntil.toISOString() : null,
  isDemo: s.isDemo,
  createdAt: s.createdAt.toISOString(),
});

// ─── Staffing rule (Art. 6) ─────────────────────────────────────────────────────────────────────

export const MIN_LIAISONS = 1;
export const MIN_AGENTS = 2;

/**
 * Participating units (departments that request or issue) with fewer than 1 active liaison or 2 active
 * agents; and, as warnings, active agents without an active A/B partner in their unit.
 */
export async function staffingReport(db: Db) {
  const participating = await db.select().from(units).where(eq(units.kind, 'department'));
  const people = await db
    .select({
      id: staff.id,
      name: staff.displayName,
      unitCode: staff.unitCode,
      role: staff.role,
      partnerId: staff.partnerId,
    })
    .from(staff)
    .where(eq(staff.active, true));
  const violations = [];
  const warnings = [];
  const checked = participating.filter((u) => u.canRequest || u.canIssue);
  for (const u of checked) {
    const own = people.filter((p) => p.unitCode === u.code);
    const liaisons = own.filter((p) => p.role === 'liaison').length;
    const agents = own.filter((p) => p.role === 'agent');
    const problems: string[] = [];
    if (liaisons < MIN_LIAISONS) problems.push(`联络员不足：${liaisons} 人（至少 ${MIN_LIAISONS} 人）`);
    if (agents.length < MIN_AGENTS) problems.push(`代办员不足：${agents.length} 人（至少 ${MIN_AGENTS} 人）`);
    if (problems.length)
      violations.push({ code: u.code, name: u.name, liaisons, agents: agents.length, problems });
    const ids = new Set(own.map((p) => p.id));
    const unpaired = agents.filter((a) => !a.partnerId || a.partnerId === a.id || !ids.has(a.partnerId));
    if (unpaired.length)
      warnings.push({
        code: u.code,
        name: u.name,
        detail: `未设置在岗A/B角的代办员：${unpaired.map((a) => a.name).join('、')}`,
      });
  }
  return { checkedUnits: checked.length, violations, warnings };
}

// ─── Absence and hand-over (A/B roles) ──────────────────────────────────────────────────────────

export async function isAbsentAt(db: Db, staffId: string, at: Date): Promise<boolean> {
  const [row] = await db
    .select({ id: staffAbsences.id })
    .from(staffAbsences)
    .where(
      and(eq(staffAbsences.staffId, staffId), lte(staffAbsences.startsAt, at), gt(staffAbsences.endsAt, at)),
    )
    .limit(1);
  return !!row;
}

export interface HandOverOutcome {
  toStaffId: string | null;
  toName: string | null;
  /** Cases whose hand-over signal was sent. */
  caseIds: string[];
  failed: number;
  /** Why nothing was handed over although there were cases. */
  warning: string | null;
}

const HAND_OVER_REASON = '原承办人缺岗，由A/B角接办';

/**
 * Passes every registered open case assigned to `staffId` to their active, present A/B partner (the
 * workflow records "B acting for A"). The absence's own reason is not put on case timelines.
 */
export async function handOverOpenCases(
  db: Db,
  gateway: CaseGateway,
  log: FastifyBaseLogger,
  staffId: string,
): Promise<HandOverOutcome> {
  const open = await db
    .select({ id: cases.id })
    .from(cases)
    .where(and(eq(cases.assigneeId, staffId), eq(cases.status, 'registered')));
  const [person] = await db.select().from(staff).where(eq(staff.id, staffId));
  const outcome: HandOverOutcome = { toStaffId: null, toName: null, caseIds: [], failed: 0, warning: null };
  if (!open.length || !person) return outcome;
  const [partner] = person.partnerId
    ? await db.select().from(staff).where(eq(staff.id, person.partnerId))
    : [];
  if (!partner?.active || partner.unitCode !== person.unitCode || partner.id === person.id) {
    outcome.warning = `该人员没有在岗的A/B角，${open.length} 件在办协查未能转交，请联络员转派`;
    return outcome;
  }
  if (await isAbsentAt(db, partner.id, new Date())) {
    outcome.warning = `A/B角${partner.displayName}也在缺岗，${open.length} 件在办协查未能转交，请联络员转派`;
    return outcome;
  }
  outcome.toStaffId = partner.id;
  outcome.toName = partner.displayName;
  for (const c of open) {
    try {
      await gateway.handOver(c.id, {
        fromStaffId: person.id,
        toStaffId: partner.id,
        toName: partner.displayName,
        reason: HAND_OVER_REASON,
      });
      outcome.caseIds.push(c.id);
    } catch (err) {
      outcome.failed++;
      log.warn({ err, caseId: c.id }, 'hand-over signal failed');
    }
  }
  return outcome;
}

// ─── Passwords ──────────────────────────────────────────────────────────────────────────────────

const PASSWORD_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789';

/** A random 16-character issued password that meets the password policy. */
export function issuedPassword(username: string): string {
  for (;;) {
    let p = '';
    for (let i = 0; i < 16; i++) p += PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)];
    if (!passwordPolicyViolation(p, username)) return p;
  }
}

// ─── Catalog templates (Art. 4) ─────────────────────────────────────────────────────────────────

export async function unitsThatCannotIssue(db: Db, codes: string[], base: string): Promise<ProblemField[]> {
  const found = codes.length ? await db.select().from(units).where(inArray(units.code, codes)) : [];
  const errors: ProblemField[] = [];
  codes.forEach((code, i) => {
    const u = found.find((f) => f.code === code);
    if (!u) errors.push({ pointer: `${base}/${i}`, detail: `单位 ${code} 不存在` });
    else if (!u.canIssue) errors.push({ pointer: `${base}/${i}`, detail: `${u.name}不是出具单位` });
  });
  if (new Set(codes).size !== codes.length) errors.push({ pointer: base, detail: '出具单位有重复' });
  return errors;
}

const schemaMessage = (e: ErrorObject) => `不是有效的 JSON Schema：${e.message ?? e.keyword}`;

/**
 * A template must be a JSON Schema (draft-07) object schema that Ajv compiles: forms are generated from
 * its `properties`, and case fields are validated with it. Errors point into the submitted schema.
 */
export function templateSchemaErrors(schema: Record<string, unknown>, base: string): ProblemField[] {
  if (schema.type !== 'object')
    return [{ pointer: `${base}/type`, detail: '模板的顶层须为 "type": "object"' }];
  if (schema.properties === undefined || typeof schema.properties !== 'object' || schema.properties === null)
    return [{ pointer: `${base}/properties`, detail: '模板须以 properties 列出字段' }];
  if ('$id' in schema) return [{ pointer: `${base}/$id`, detail: '模板不能设置 $id' }];
  if ('$async' in schema) return [{ pointer: `${base}/$async`, detail: '模板不能是异步 Schema' }];
  // A fresh instance each time: nothing an administrator submits stays in a shared cache.
  const ajv = new Ajv({ allErrors: true, strict: false });
  (addFormats as unknown as (a: Ajv) => void)(ajv);
  if (!ajv.validateSchema(schema)) {
    return (ajv.errors ?? []).map((e) => ({ pointer: `${base}${e.instancePath}`, detail: schemaMessage(e) }));
  }
  try {
    ajv.compile(schema);
  } catch (err) {
    return [{ pointer: base, detail: `模板无法编译：${err instanceof Error ? err.message : String(err)}` }];
  }
  return [];
}

// ─── Audit of reference-data writes (Art. 10) ───────────────────────────────────────────────────

/**
 * Runs a write and audits it: allowed with `detail`, or denied with the refusal's status and reason.
 * `fn` does its own permission checks, so refused attempts are on the record too.
 */
export async function auditedWrite<T>(
  db: Db,
  req: FastifyRequest,
  action: string,
  detail: Record<string, unknown>,
  fn: (who: StaffContext) => Promise<T>,
): Promise<T> {
  const who = staffOf(req);
  const base = { actorId: who.id, actorUnit: who.unitCode, action, sourceIp: req.ip };
  try {
    const result = await fn(who);
    await recordAudit(db, { ...base, outcome: 'allowed', detail });
    return result;
  } catch (err) {
    if (err instanceof Problem)
      await recordAudit(db, {
        ...base,
        outcome: 'denied',
        detail: { ...detail, status: err.status, reason: err.detail },
      });
    throw err;
  }
}
