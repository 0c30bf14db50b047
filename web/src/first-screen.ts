/**
 * The first screen of a clerk's list (/inbox, /outbox), drawn with plain DOM from the first-load answers
 * while React and antd, seconds of work on a slow CPU, are still loading. It is a working list, not a
 * picture: its tabs switch, its 文号 and 查看/反馈 open the case, 登记受理 registers. The full page renders
 * hidden behind it and replaces it once it shows its own rows (CaseList.tsx), opening the tab chosen here.
 *
 * No React and no antd here (that is the point); the requests are the page's own (`listRequests`), so
 * the answers drawn here are the ones the page then takes (`api.prefetch`).
 */
import { api, currentSession } from './api.ts';
import { t } from './i18n.ts';
import { roleLabel, statusLabel, supervisionText } from './labels.ts';
import {
  FIRST_PAGE_SIZE,
  INBOX_TABS,
  INBOX_TITLE,
  type ListCounts,
  type ListTab,
  listQuery,
  listRequests,
  OUTBOX_TABS,
  OUTBOX_TITLE,
} from './pages/list-tabs.ts';
import { fmt, slaState, slaText } from './time.ts';
import type { CaseList, CaseSummary } from './types.ts';
import './first-screen.css';

type Box = 'inbox' | 'outbox';

interface ListPage {
  box: Box;
  title: string;
  tabs: ListTab[];
  unitField: 'requestingUnit' | 'issuingUnit';
  unitTitle: string;
}

const LISTS: Record<string, ListPage> = {
  '/inbox': {
    box: 'inbox',
    title: INBOX_TITLE,
    tabs: INBOX_TABS,
    unitField: 'requestingUnit',
    unitTitle: '需求单位',
  },
  '/outbox': {
    box: 'outbox',
    title: OUTBOX_TITLE,
    tabs: OUTBOX_TABS,
    unitField: 'issuingUnit',
    unitTitle: '出具单位',
  },
};

let shown: { box: Box; tab: string; element: HTMLElement } | undefined;
/** When the first screen last drew or was used (performance.now()). */
let lastActivity = 0;
const active = () => {
  lastActivity = performance.now();
};

/** The element `tag` with attributes and children (text or elements; undefined ones left out). */
function el(
  tag: string,
  attrs: Record<string, string> = {},
  ...children: (Node | string | undefined)[]
): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) if (c !== undefined) e.append(c);
  return e;
}

/** Unit codes to names, from the units answer (the codes until it arrives). */
let unitNames = new Map<string, string>();
const unitName = (code: string) => unitNames.get(code) ?? code;

const caseHref = (c: CaseSummary) => `/cases/${encodeURIComponent(c.id)}`;

/** The deadline in force with its SLA state and 督办 level, as the full page's DeadlineInForce. */
function deadlineCell(c: CaseSummary): HTMLElement {
  const sla = slaState(c);
  return el(
    'td',
    {},
    el('div', {}, fmt(c.dueInForce ?? c.dueAt), c.orderedDueAt ? `（${t('责成时限')}）` : undefined),
    el('span', { class: `fs-tag fs-sla-${sla.kind}` }, slaText(sla)),
    c.escalationLevel ? el('span', { class: 'fs-tag fs-sla-overdue' }, supervisionText(c)) : undefined,
  );
}

type Register = (c: CaseSummary, button: HTMLButtonElement) => void;

/** An inbox row's actions, as on the full page: 登记受理 (one click), and 反馈 / 查看 to open the case. */
function actionsCell(c: CaseSummary, register: Register): HTMLElement {
  const cell = el('td', { class: 'fs-actions' });
  if (c.status === 'awaiting_registration') {
    const button = el('button', { type: 'button', class: 'fs-button fs-primary' }, t('登记受理'));
    button.addEventListener('click', () => register(c, button as HTMLButtonElement));
    cell.append(button);
  }
  cell.append(
    el('a', { href: caseHref(c), class: 'fs-button' }, c.status === 'registered' ? t('反馈') : t('查看')),
  );
  return cell;
}

function row(c: CaseSummary, list: ListPage, register: Register): HTMLElement {
  const assignee = (c as CaseSummary & { assigneeName?: string | null }).assigneeName;
  return el(
    'tr',
    { class: `fs-row fs-row-${slaState(c).kind}` },
    el('td', {}, el('a', { href: caseHref(c), class: 'fs-doc' }, c.docNumber)),
    el('td', {}, c.catalogName ?? c.catalogCode),
    el('td', {}, c.subject),
    el('td', {}, unitName(c[list.unitField])),
    el('td', {}, el('span', { class: 'fs-tag' }, statusLabel(c.status))),
    deadlineCell(c),
    el('td', {}, assignee ?? el('span', { class: 'fs-muted' }, t('未认领'))),
    list.box === 'inbox' ? actionsCell(c, register) : undefined,
  );
}

/** The answers behind a tab: its first page (the page's own request) and the tabs' counts; `fresh` after a change. */
function tabAnswers(box: Box, tab: ListTab, fresh: boolean) {
  const r = listRequests(box, listQuery(box, tab, {}), {}, undefined, FIRST_PAGE_SIZE);
  return {
    page: api.prefetch<CaseList & { total?: number }>(...r.page, { fresh }),
    counts: api.prefetch<ListCounts>(...r.counts, { fresh }),
  };
}

/**
 * Draws the first screen when this page is a signed-in clerk's list; resolves once its rows are drawn (or
 * it gave up: an error is the full page's to show). Undefined when there is no first screen to draw.
 */
export function showFirstScreen(): Promise<void> | undefined {
  const list = LISTS[window.location.pathname];
  const session = currentSession();
  const first = list?.tabs[0];
  if (!list || !first || !session || session.staff.mustChangePassword || window.location.search)
    return undefined;

  const headers = ['文号', '事项', '核验对象', list.unitTitle, '状态', '办理时限', '经办人'];
  if (list.box === 'inbox') headers.push('操作');
  const message = (text: string) =>
    el('tr', {}, el('td', { colspan: String(headers.length), class: 'fs-muted' }, text));
  const tablist = el('div', { role: 'tablist', class: 'fs-tabs', 'aria-label': t('列表') });
  const total = el('span', { class: 'fs-muted' });
  const status = el('div', { role: 'status', class: 'fs-status' });
  const body = el('tbody', {}, message(t('加载中…')));
  const unitText = el('span', { class: 'fs-muted fs-unit' }, roleLabel(session.staff.role));
  const element = el(
    'div',
    { id: 'first-screen', class: 'fs', 'data-testid': 'first-screen', 'aria-busy': 'true' },
    el('aside', { class: 'fs-sider' }, el('div', { class: 'fs-brand' }, t('协查核验'))),
    el(
      'div',
      { class: 'fs-main' },
      el('header', { class: 'fs-header' }, el('span', {}, session.staff.name), unitText),
      el(
        'main',
        { class: 'fs-content' },
        el('h1', { class: 'fs-title' }, t(list.title)),
        el('div', { class: 'fs-toolbar' }, tablist, total),
        status,
        el(
          'div',
          { class: 'fs-table-wrap' },
          el(
            'table',
            { class: 'fs-table' },
            el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', {}, t(h))))),
            body,
          ),
        ),
        el('p', { class: 'fs-muted fs-note' }, t('正在载入查询、导出与批量办理…')),
      ),
    ),
  );
  document.body.classList.add('fs-active');
  document.body.prepend(element);
  shown = { box: list.box, tab: first.key, element };

  const tabs = list.tabs.map((tab) => {
    const count = el('span', { class: 'fs-count' }, '…');
    const button = el(
      'button',
      { type: 'button', role: 'tab', class: 'fs-tab', 'data-first-tab': tab.key },
      t(tab.label),
      count,
    );
    button.addEventListener('click', () => {
      active();
      open(tab).catch(failed);
    });
    tablist.append(button);
    return { tab, button, count };
  });

  let current = first;
  let drawing = 0;
  const open = async (tab: ListTab, fresh = false) => {
    if (!shown) return;
    current = tab;
    status.textContent = '';
    status.classList.remove('fs-error');
    shown.tab = tab.key;
    for (const x of tabs) x.button.setAttribute('aria-selected', String(x.tab === tab));
    const mine = ++drawing;
    const answers = tabAnswers(list.box, tab, fresh);
    // The counts arrive when they do; the rows do not wait for them.
    answers.counts?.then(
      (counts) => {
        if (mine === drawing) for (const x of tabs) x.count.textContent = String(counts[x.tab.count]);
      },
      () => {},
    );
    if (!answers.page) return;
    const page = await answers.page;
    if (mine !== drawing || !shown) return; // another tab was chosen meanwhile
    total.textContent = t('共 {n} 条', { n: page.total ?? page.items.length });
    drawRows(page.items);
    element.setAttribute('aria-busy', 'false');
    active();
  };
  let drawn: CaseSummary[] = [];
  const drawRows = (items: CaseSummary[]) => {
    drawn = items;
    body.replaceChildren(
      ...(items.length ? items.map((c) => row(c, list, register)) : [message(t('此列表暂无案件'))]),
    );
  };

  /** A request that failed, said in the status line (the rows on screen stay). */
  const failed = (e: unknown) => {
    status.textContent = (e as Error).message;
    status.classList.add('fs-error');
  };

  /** 登记受理 as the full page does it; then the tab is asked for again. */
  const register: Register = (c, button) => {
    active();
    button.disabled = true;
    status.textContent = '';
    status.classList.remove('fs-error');
    api
      .post(`/api/v1/verifications/${encodeURIComponent(c.id)}/register`, {})
      .then(() => {
        open(current, true).catch(failed);
        status.textContent = `${t('已登记受理')}：${c.docNumber}`;
      })
      .catch((e: unknown) => {
        button.disabled = false;
        status.textContent = `${t('登记受理')}：${(e as Error).message}`;
        status.classList.add('fs-error');
      });
  };

  // Unit names when they come (codes until then: the rows do not wait for them).
  api
    .prefetch<{ items: { code: string; name: string }[] }>('/api/v1/units')
    ?.then((u) => {
      unitNames = new Map(u.items.map((x) => [x.code, x.name]));
      unitText.textContent = `${unitName(session.staff.unitCode)} · ${roleLabel(session.staff.role)}`;
      if (shown && drawn.length) drawRows(drawn);
    })
    .catch(() => {});
  return open(first).catch(() => removeFirstScreen());
}

/**
 * Resolves once the first screen has not drawn or been used for `quietMs` (a person reading it, not
 * clicking), and at the latest `maxMs` after it was called: the moment to load the full page's code, which
 * holds the CPU for a while.
 */
export function whenFirstScreenQuiet(quietMs: number, maxMs: number): Promise<void> {
  const deadline = performance.now() + maxMs;
  return new Promise((resolve) => {
    const check = () => {
      const now = performance.now();
      if (!shown || now >= deadline || now - lastActivity >= quietMs) resolve();
      else setTimeout(check, Math.min(deadline, lastActivity + quietMs) - now);
    };
    check();
  });
}

/** The application's code did not load (a network failure): say so where the person is looking. */
export function applicationFailed(): void {
  const text = t('页面载入失败，请检查网络后刷新页面');
  const note = shown?.element.querySelector('.fs-note');
  if (note) {
    note.textContent = text;
    note.setAttribute('role', 'alert');
    note.classList.add('fs-error');
  } else document.body.append(el('p', { role: 'alert', class: 'fs-error fs-failed' }, text));
}

/** True while the first screen is on the page. */
export const firstScreenShown = () => shown !== undefined;

/** The tab chosen on the first screen of this list, while it is on the page. */
export const firstScreenTab = (box: Box): string | undefined => (shown?.box === box ? shown.tab : undefined);

/** Removes the first screen: the full page is on screen (or this is no longer a list). */
export function removeFirstScreen(): void {
  if (!shown) return;
  shown.element.remove();
  shown = undefined;
  document.body.classList.remove('fs-active');
}
