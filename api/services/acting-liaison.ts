/**
 * Liaison rights under the A/B role system (Art. 6): a liaison holds them; while every liaison of the unit
 * is absent, so does the unit's backup liaison (联络员B角). Checked against the database at each request,
 * so a liaison's return ends the stand-in at once.
 */
import type { Db } from '../../db/client.ts';
import { liaisonDuty } from '../../db/staffing.ts';
import type { StaffContext } from '../plugins/auth.ts';

export interface LiaisonRight {
  ok: boolean;
  /** The backup acts for this (absent) liaison: recorded as "B acting for A". */
  onBehalfOf?: string;
}

export async function liaisonRight(db: Db, who: StaffContext): Promise<LiaisonRight> {
  if (who.role === 'liaison') return { ok: true };
  if (who.role !== 'agent') return { ok: false };
  const duty = await liaisonDuty(db, who.unitCode);
  if (!duty.backupActing || duty.backup?.id !== who.id) return { ok: false };
  return { ok: true, onBehalfOf: duty.registered[0]?.id };
}

export async function actsAsLiaison(db: Db, who: StaffContext): Promise<boolean> {
  return (await liaisonRight(db, who)).ok;
}
