/**
 * Keyset cursors for list routes: the last row's (timestamp, id), base64url JSON. A cursor the server
 * did not issue is a 400 naming the field; ignoring it would silently serve the first page again, and
 * a client paging through would loop or stop without knowing why.
 */
import { badRequest } from '../problem.ts';

export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([at.toISOString(), id])).toString('base64url');
}

/** The (timestamp, id) a cursor stands for; throws a 400 problem for anything else. */
export function decodeCursor(cursor: string, pointer = '/querystring/cursor'): [Date, string] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString());
  } catch {
    parsed = undefined;
  }
  if (Array.isArray(parsed) && parsed.length === 2) {
    const [at, id] = parsed as unknown[];
    const d = typeof at === 'string' ? new Date(at) : undefined;
    if (d && !Number.isNaN(d.getTime()) && typeof id === 'string' && id.length > 0) return [d, id];
  }
  throw badRequest('分页游标无效：请使用上一页返回的 nextCursor', [
    { pointer, detail: '不是本服务返回的分页游标' },
  ]);
}
