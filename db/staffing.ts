/**
 * Who holds a unit's liaison duty at a given moment (A/B roles, 联络员B角, Zibo measures Art. 6): the unit's
 * active liaisons who are not absent; when none is, its backup liaison (units.backup_liaison_id) if that
 * agent is active, still in the unit and present. Used by the API (liaison rights, liaison tasks) so
 * that what goes to the liaison reaches the backup while the liaison is away, as agents' cases reach
 * their A/B partner.
 */
import { and, eq, gt, inArray, lte } from 'drizzle-orm';
import type { Db } from './client.ts';
import { staff, staffAbsences, units } from './schema.ts';

export interface Person {
  id: string;
  name: string;
}

export interface LiaisonDuty {
  /** Active liaisons of the unit who are not absent at that moment. */
  present: Person[];
  /** Every active liaison of the unit. */
  registered: Person[];
  /** The unit's backup liaison, if one is designated and still an active member of the unit. */
  backup: (Person & { present: boolean }) | null;
  /** The backup acts as liaison: no liaison is present and the backup is. */
  backupActing: boolean;
  /** Who receives the liaison's tasks: present liaisons, else the acting backup, else every liaison. */
  recipients: Person[];
}

/** The ids among `ids` with an absence covering `at`. */
export async function absentAt(db: Db, ids: string[], at: Date): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const rows = await db
    .select({ staffId: staffAbsences.staffId })
    .from(staffAbsences)
    .where(
      and(inArray(staffAbsences.staffId, ids), lte(staffAbsences.startsAt, at), gt(staffAbsences.endsAt, at)),
    );
  return new Set(rows.map((r) => r.staffId));
}

export async function liaisonDuty(db: Db, unitCode: string, at = new Date()): Promise<LiaisonDuty> {
  const [unit] = await db
    .select({ backupLiaisonId: units.backupLiaisonId })
    .from(units)
    .where(eq(units.code, unitCode));
  const people = await db
    .select({ id: staff.id, name: staff.displayName, role: staff.role })
    .from(staff)
    .where(and(eq(staff.unitCode, unitCode), eq(staff.active, true)));
  const liaisons = people.filter((p) => p.role === 'liaison').map(({ id, name }) => ({ id, name }));
  const backupRow = unit?.backupLiaisonId ? people.find((p) => p.id === unit.backupLiaisonId) : undefined;
  const absent = await absentAt(db, [...liaisons.map((l) => l.id), ...(backupRow ? [backupRow.id] : [])], at);
  const present = liaisons.filter((l) => !absent.has(l.id));
  const backup = backupRow
    ? { id: backupRow.id, name: backupRow.name, present: !absent.has(backupRow.id) }
    : null;
  const backupActing = present.length === 0 && !!backup?.present;
  const recipients = present.length ? present : backupActing && backup ? [backup] : liaisons;
  return { present, registered: liaisons, backup, backupActing, recipients };
}
