/**
 * Reference data the office administrators and the units' liaisons keep: units, staff (A/B partners,
 * absences), the staffing rule (Art. 6), and the checks on catalog templates (Art. 4).
 */
import { randomInt } from 'node:crypto';
import { Ajv, type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import { and, eq, gt, inArray, lt } from 'drizzle-orm';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import { type HandOverOutcome, isAbsentAt, planHandOver } from '../../activities/absence-activities.ts';
import type { Db } from '../../db/client.ts';
import { staff, staffAbsences, units } from '../../db/schema.ts';
import {
  addCalendarDays,
  type ShanghaiDate,
  shanghaiDateOf,
  shanghaiInstant,
} from '../../domain/working-time/index.ts';
import { HAND_OVER_REASON } from '../../workflows/absence-hand-over.ts';
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
  backupLiaisonId: u.backupLiaisonId,
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
  isLeader: s.isLeader,
  createdAt: s.createdAt.toISOString(),
});

// ─── Staffing rule (Art. 6) ─────────────────────────────────────────────────────────────────────

export const MIN_LIAISONS = 1;
export const MIN_AGENTS = 2;

/**
 * The staffing rule (Art. 6) per participating unit (a department that requests or issues), counted
 * twice: **registered** (active staff) and **available** on the Beijing date `date` (active and with no
 * absence overlapping that day, 00:00–24:00 Asia/Shanghai: someone away for part of the day cannot be
 * counted on for the day). A unit is a violation when either count is below 1 liaison or 2 agents;
 * when no liaison is available but the unit's backup liaison (联络员B角) is, the liaison duty is covered
 * and this is a warning instead. Warnings also name agents without an A/B partner, and a missing or
 * no-longer-valid backup liaison.
 */
export async function staffingReport(db: Db, date: ShanghaiDate = shanghaiDateOf(new Date())) {
  const dayStart = shanghaiInstant(date, 0);
  const dayEnd = shanghaiInstant(addCalendarDays(date, 1), 0);
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
  const absentRows = await db
    .select({ staffId: staffAbsences.staffId })
    .from(staffAbsences)
    .where(and(lt(staffAbsences.startsAt, dayEnd), gt(staffAbsences.endsAt, dayStart)));
  const absent = new Set(absentRows.map((a) => a.staffId));
  const available = (p: { id: string }) => !absent.has(p.id);
  const unitsOut = [];
  const violations = [];
  const warnings = [];
  const checked = participating.filter((u) => u.canRequest || u.canIssue);
  for (const u of checked) {
    const own = people.filter((p) => p.unitCode === u.code);
    const liaisons = own.filter((p) => p.role === 'liaison');
    const agents = own.filter((p) => p.role === 'agent');
    const registered = { liaisons: liaisons.length, agents: agents.length };
    const today = { liaisons: liaisons.filter(available).length, agents: agents.filter(available).length };
    const backupRow = u.backupLiaisonId ? own.find((p) => p.id === u.backupLiaisonId) : undefined;
    const backupLiaison = backupRow
      ? { id: backupRow.id, name: backupRow.name, availableToday: available(backupRow) }
      : null;
    const problems: string[] = [];
    if (registered.liaisons < MIN_LIAISONS)
      problems.push(`联络员不足：${registered.liaisons} 人（至少 ${MIN_LIAISONS} 人）`);
    if (registered.agents < MIN_AGENTS)
      problems.push(`经办人不足：${registered.agents} 人（至少 ${MIN_AGENTS} 人）`);
    if (registered.liaisons >= MIN_LIAISONS && today.liaisons < MIN_LIAISONS) {
      if (backupLiaison?.availableToday)
        warnings.push({
          code: u.code,
          name: u.name,
          detail: `${date} 联络员均缺岗，由联络员B角${backupLiaison.name}代行`,
        });
      else
        problems.push(
          `${date} 在岗联络员不足：${today.liaisons} 人（至少 ${MIN_LIAISONS} 人），且${
            backupLiaison ? `联络员B角${backupLiaison.name}也缺岗` : '未指定联络员B角'
          }`,
        );
    }
    if (registered.agents >= MIN_AGENTS && today.agents < MIN_AGENTS)
      problems.push(`${date} 在岗经办人不足：${today.agents} 人（至少 ${MIN_AGENTS} 人）`);
    unitsOut.push({ code: u.code, name: u.name, registered, available: today, backupLiaison, problems });
    if (problems.length)
      violations.push({
        code: u.code,
        name: u.name,
        liaisons: registered.liaisons,
        agents: registered.agents,
        available: today,
        problems,
      });
    const ids = new Set(own.map((p) => p.id));
    const unpaired = agents.filter((a) => !a.partnerId || a.partnerId === a.id || !ids.has(a.partnerId));
    if (unpaired.length)
      warnings.push({
        code: u.code,
        name: u.name,
        detail: `未设置在岗A/B角的经办人：${unpaired.map((a) => a.name).join('、')}`,
      });
    if (!backupRow)
      warnings.push({
        code: u.code,
        name: u.name,
        detail: u.backupLiaisonId ? '联络员B角已停用或调离本单位，请重新指定' : '未指定联络员B角',
      });
  }
  return { checkedUnits: checked.length, date, units: unitsOut, violations, warnings };
}

// ─── Absence and hand-over (A/B roles) ──────────────────────────────────────────────────────────

export type { HandOverOutcome };
export { isAbsentAt };

type AbsenceRow = typeof staffAbsences.$inferSelect;

/** Starts the absence's workflow; a failure is logged, and the next API start schedules it (resumeAbsences). */
export async function scheduleAbsence(
  gateway: CaseGateway,
  log: FastifyBaseLogger,
  absence: AbsenceRow,
  handOver: HandOverOutcome | null,
): Promise<void> {
  try {
    await gateway.scheduleAbsence({
      absenceId: absence.id,
      staffId: absence.staffId,
      startsAt: absence.startsAt.toISOString(),
      endsAt: absence.endsAt.toISOString(),
      ...(handOver ? { handedOver: { toStaffId: handOver.toStaffId ?? '', caseIds: handOver.caseIds } } : {}),
    });
  } catch (err) {
    log.error({ err, absenceId: absence.id }, 'absence workflow not started; scheduled at next API start');
  }
}

/** At API start: every absence not over yet has its workflow (a no-op for those that have one). */
export async function resumeAbsences(db: Db, gateway: CaseGateway, log: FastifyBaseLogger): Promise<number> {
  const open = await db.select().from(staffAbsences).where(gt(staffAbsences.endsAt, new Date()));
  for (const absence of open) await scheduleAbsence(gateway, log, absence, null);
  return open.length;
}

/**
 * Passes every registered open case assigned to `staffId` to their active, present A/B partner (the
 * workflow records "B acting for A"). The absence's own reason is not put on case timelines.
 */
export async function handOverOpenCases(
  db: Db,
  gateway: CaseGateway,
  log: FastifyBaseLogger,
  staffId: string,
  /** What the liaison's notice (if any) is about: the absence (`absence:ID`); a leave otherwise. */
  eventKey?: string,
): Promise<HandOverOutcome> {
  const plan = await planHandOver(db, staffId, eventKey);
  const outcome: HandOverOutcome = {
    toStaffId: plan.to?.id ?? null,
    toName: plan.to?.name ?? null,
    caseIds: [],
    failed: 0,
    warning: plan.warning,
  };
  if (!plan.to) return outcome;
  for (const id of plan.caseIds) {
    try {
      await gateway.handOver(id, {
        fromStaffId: staffId,
        toStaffId: plan.to.id,
        toName: plan.to.name,
        reason: HAND_OVER_REASON,
      });
      outcome.caseIds.push(id);
    } catch (err) {
      outcome.failed++;
      log.warn({ err, caseId: id }, 'hand-over signal failed');
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
