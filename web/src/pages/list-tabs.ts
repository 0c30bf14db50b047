/**
 * The tabs of the inbox and outbox lists and the request each list's page makes, kept apart from the
 * pages (no antd here) so the first screen's data can be asked for while the application's code still
 * starts (`first-load.ts`).
 */

export type ListQuery = Record<string, string | number | boolean | undefined>;

export interface ListCounts {
  open: number;
  unclaimed: number;
  mine: number;
  done: number;
  all: number;
}

/** A tab of the list: its own filters (待办, 已办 …) and which count it shows. */
export interface ListTab {
  key: string;
  label: string;
  query: ListQuery;
  count: keyof ListCounts;
}

export const INBOX_TABS: ListTab[] = [
  { key: 'open', label: '待办', query: { open: true }, count: 'open' },
  { key: 'unclaimed', label: '待认领', query: { unregistered: true }, count: 'unclaimed' },
  { key: 'mine', label: '我承办的', query: { open: true, assignedToMe: true }, count: 'mine' },
  { key: 'done', label: '已办', query: { done: true }, count: 'done' },
];

export const OUTBOX_TABS: ListTab[] = [
  { key: 'open', label: '待办', query: { open: true }, count: 'open' },
  { key: 'done', label: '已办', query: { done: true }, count: 'done' },
  { key: 'all', label: '全部', query: {}, count: 'all' },
];

export const FIRST_PAGE_SIZE = 20;

/** The pages' titles (the full page's header and the first screen's). */
export const INBOX_TITLE = '待办任务';
export const OUTBOX_TITLE = '我的协查';

/** The list's filters: the box, the tab's own, then the search bar's. */
export function listQuery(box: 'inbox' | 'outbox', tab: ListTab | undefined, search: ListQuery): ListQuery {
  return { box, ...tab?.query, ...search };
}

/** The two requests behind a page of a list: its cases and the tabs' counts. */
export function listRequests(
  box: 'inbox' | 'outbox',
  query: ListQuery,
  search: ListQuery,
  cursor: string | undefined,
  limit: number,
): { page: [string, ListQuery]; counts: [string, ListQuery] } {
  return {
    page: ['/api/v1/verifications', { ...query, cursor, limit }],
    counts: ['/api/v1/verifications/counts', { box, ...search }],
  };
}

/** What a list page asks for first, opened with its first tab and no search (the page a clerk lands on). */
export function firstListRequests(path: string): [string, ListQuery][] {
  const box = path === '/inbox' ? 'inbox' : path === '/outbox' ? 'outbox' : undefined;
  if (!box) return [];
  const tab = (box === 'inbox' ? INBOX_TABS : OUTBOX_TABS)[0];
  const r = listRequests(box, listQuery(box, tab, {}), {}, undefined, FIRST_PAGE_SIZE);
  return [r.page, r.counts];
}
