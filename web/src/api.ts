/**
 * The API client: bearer token, problem+json errors as `ApiError` (Chinese `detail` and field errors),
 * an Idempotency-Key on every POST, and the two session outcomes every page shares: 401 → back to the
 * login page with a message, 403 `password_change_required` → the password page.
 */
import { t } from './i18n.ts';
import { navigate } from './navigation.ts';

export interface FieldError {
  pointer: string;
  detail: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly errors: FieldError[] = [],
    readonly code?: string,
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

export interface Staff {
  id: string;
  username: string;
  name: string;
  unitCode: string;
  unitKind: 'department' | 'office';
  role: 'liaison' | 'agent' | 'supervisor' | 'admin' | 'reviewer';
  partnerId: string | null;
  isDemo: boolean;
  mustChangePassword: boolean;
}

export interface Session {
  token: string;
  expiresAt: string;
  staff: Staff;
}

const SESSION_KEY = 'xiecha.session';
const FLASH_KEY = 'xiecha.flash';

type Listener = (s: Session | undefined) => void;
const listeners = new Set<Listener>();
/** Why this tab has no session at start, when it had one that ran out. */
let startReason: string | undefined;
let session: Session | undefined = (() => {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    const s = raw ? (JSON.parse(raw) as Session) : undefined;
    if (s && new Date(s.expiresAt).getTime() <= Date.now()) {
      sessionStorage.removeItem(SESSION_KEY);
      startReason = t('登录已过期，请重新登录');
      return undefined;
    }
    return s;
  } catch {
    return undefined;
  }
})();

export const currentSession = (): Session | undefined => session;

function keep(next: Session | undefined): void {
  session = next;
  try {
    if (next) sessionStorage.setItem(SESSION_KEY, JSON.stringify(next));
    else sessionStorage.removeItem(SESSION_KEY);
  } catch {
    // storage unavailable: the session lasts for this page only
  }
  for (const l of listeners) l(next);
}

export function setSession(next: Session | undefined): void {
  keep(next);
  // A renewed token (refresh, password change) reaches the person's other tabs; see below.
  if (next) post({ type: 'renewed', session: next });
}

export function onSessionChange(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** A one-time message for the login page (session expired, signed out). */
export function setFlash(message: string): void {
  sessionStorage.setItem(FLASH_KEY, message);
}
export function takeFlash(): string | undefined {
  const m = sessionStorage.getItem(FLASH_KEY) ?? undefined;
  sessionStorage.removeItem(FLASH_KEY);
  return m;
}

/** Ends the session locally and shows the login page with a reason. */
export function endSession(message: string): void {
  setSession(undefined);
  setFlash(message);
  const here = window.location.pathname + window.location.search;
  navigate(here.startsWith('/login') ? '/login' : `/login?next=${encodeURIComponent(here)}`, {
    replace: true,
  });
}

type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Login itself answers 401 for a wrong password: that is not an expired session. */
  anonymous?: boolean;
  /** Retrying the same user action reuses the key, so the server applies it once. */
  idempotencyKey?: string;
}

export const newIdempotencyKey = (): string => crypto.randomUUID();

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const url = urlOf(path, opts.query);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (session && !opts.anonymous) headers.authorization = `Bearer ${session.token}`;
  if (method === 'POST' && !opts.anonymous)
    headers['idempotency-key'] = opts.idempotencyKey ?? newIdempotencyKey();
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
  } catch {
    throw new ApiError(0, t('无法连接服务器，请检查网络后重试'), t('无法连接服务器，请检查网络后重试'));
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (res.ok) return data as T;

  const p = (data ?? {}) as Partial<{
    title: string;
    detail: string;
    errors: FieldError[];
    code: string;
  }>;
  const err = new ApiError(
    res.status,
    p.title ?? `HTTP ${res.status}`,
    p.detail ?? (res.status >= 500 ? '服务器暂时无法处理，请稍后再试' : '请求无法处理，请检查后重试'),
    p.errors ?? [],
    p.code,
  );
  if (res.status === 401 && !opts.anonymous && session) {
    endSession(p.detail ?? t('登录已过期，请重新登录'));
  } else if (res.status === 403 && p.code === 'password_change_required') {
    navigate('/password', { replace: true });
  }
  throw err;
}

/** The address of a GET: the path and the query's non-empty values, in the order given. */
function urlOf(path: string, query: Query | undefined): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') qs.set(k, String(v));
  return `${path}${qs.size ? `?${qs}` : ''}`;
}

/**
 * GETs started before a page asked for them: the first screen's data, requested while the application's
 * code is still starting (`first-load.ts`) instead of after its first render. The first `api.get` of the
 * same address takes the answer (once, and only while it is fresh); every later one asks the server.
 */
const prefetched = new Map<string, { at: number; answer: Promise<unknown> }>();
const PREFETCH_FRESH_MS = 15_000;

const isFresh = (hit: { at: number } | undefined) => !!hit && Date.now() - hit.at < PREFETCH_FRESH_MS;

function takePrefetched<T>(url: string): Promise<T> | undefined {
  const hit = prefetched.get(url);
  prefetched.delete(url);
  return hit && isFresh(hit) ? (hit.answer as Promise<T>) : undefined;
}

export const api = {
  get: <T>(path: string, query?: Query) =>
    takePrefetched<T>(urlOf(path, query)) ?? request<T>('GET', path, { query }),
  /**
   * Starts a GET that a page about to render will make (see `prefetched`), or joins the one already on its
   * way (`fresh`: a new one, after a change); returns its answer without taking it (the first screen draws
   * from it). Signed-in only.
   */
  prefetch: <T>(path: string, query?: Query, opts: { fresh?: boolean } = {}): Promise<T> | undefined => {
    if (!session) return undefined;
    const url = urlOf(path, query);
    const pending = prefetched.get(url);
    if (pending && isFresh(pending) && !opts.fresh) return pending.answer as Promise<T>;
    const answer = request<T>('GET', path, { query });
    answer.catch(() => {}); // the page that takes it sees the error
    prefetched.set(url, { at: Date.now(), answer });
    return answer;
  },
  post: <T>(path: string, body: unknown = {}, idempotencyKey?: string) =>
    request<T>('POST', path, { body, idempotencyKey }),
  put: <T>(path: string, body: unknown = {}) => request<T>('PUT', path, { body }),
  patch: <T>(path: string, body: unknown = {}) => request<T>('PATCH', path, { body }),
  delete: <T>(path: string) => request<T>('DELETE', path),
};

/** Is this route served? (routes added by other work may not exist yet; 404 without a problem code) */
export const isMissingRoute = (e: unknown): boolean =>
  e instanceof ApiError && (e.status === 404 || e.status === 405) && /没有这个地址/.test(e.detail);

// ─── One session for the tabs of one browser (BroadcastChannel hand-over) ────────────────────────
//
// The token stays where it was: in this tab's memory and sessionStorage, never in localStorage or a cookie.
// A tab opened without one (a case opened in a new tab, a bookmark) asks the browser's other tabs of this
// origin on a BroadcastChannel; a tab holding a live session answers with it. The channel reaches only
// same-origin documents of this browser profile, which can already read a tab's sessionStorage, so whoever
// could take the token before can take it now and nobody else: nothing is written to disk that was not
// already, and the token's lifetime and scope are unchanged. A refreshed token reaches the person's other
// tabs; a logout in one tab ends the session in every tab, each saying why on its login page.

type TabMessage =
  | { type: 'ask'; nonce: string }
  | { type: 'offer'; nonce: string; session: Session }
  | { type: 'renewed'; session: Session }
  | { type: 'logout'; staffId: string };

const channel: BroadcastChannel | undefined =
  typeof BroadcastChannel === 'undefined' ? undefined : new BroadcastChannel('xiecha.session');

function post(m: TabMessage): void {
  try {
    channel?.postMessage(m);
  } catch {
    // a closed channel: nothing to tell
  }
}

const live = (s: Session | undefined): s is Session => !!s && new Date(s.expiresAt).getTime() > Date.now();

/**
 * How long a tab without a session waits for the answer of a tab known to hold one (a tab busy rendering a
 * page answers when it is done) before showing the login page.
 */
const HANDOVER_WAIT_MS = 5000;
let askNonce: string | undefined;
const handoverListeners = new Set<() => void>();

/** True while this tab is asking the other tabs for their session. */
export const handoverPending = (): boolean => askNonce !== undefined;

export function onHandoverChange(l: () => void): () => void {
  handoverListeners.add(l);
  return () => handoverListeners.delete(l);
}

function finishHandover(): void {
  askNonce = undefined;
  for (const l of handoverListeners) l();
}

channel?.addEventListener('message', (ev: MessageEvent<TabMessage>) => {
  const m = ev.data;
  if (!m || typeof m !== 'object') return;
  if (m.type === 'ask') {
    if (live(session)) post({ type: 'offer', nonce: m.nonce, session });
  } else if (m.type === 'offer') {
    if (m.nonce !== askNonce || session || !live(m.session)) return;
    keep(m.session);
    finishHandover();
  } else if (m.type === 'renewed') {
    if (session && session.staff.id === m.session.staff.id && live(m.session)) keep(m.session);
  } else if (m.type === 'logout') {
    if (session && session.staff.id === m.staffId) endSession(t('您已在本浏览器的另一个标签页退出登录'));
  }
});

// Which tabs hold a session is known without asking: each holds a shared Web Lock while it has one (released
// with the session or the tab). A new tab waits for an answer only when such a tab exists (a busy tab may
// take a moment to answer), and goes to the login page at once when none does.
const HOLDER_LOCK = 'xiecha.session-holder';
let releaseHolder: (() => void) | undefined;

function holdPresence(has: boolean): void {
  if (has && !releaseHolder && navigator.locks) {
    const held = new Promise<void>((resolve) => {
      releaseHolder = resolve;
    });
    void navigator.locks.request(HOLDER_LOCK, { mode: 'shared' }, () => held).catch(() => {});
  } else if (!has && releaseHolder) {
    releaseHolder();
    releaseHolder = undefined;
  }
}
holdPresence(!!session);
onSessionChange((s) => holdPresence(!!s));

async function anotherTabHoldsASession(): Promise<boolean> {
  if (!navigator.locks) return true; // unknown: ask and wait
  try {
    const { held = [] } = await navigator.locks.query();
    return held.some((l) => l.name === HOLDER_LOCK);
  } catch {
    return true;
  }
}

// A tab opened without a session (not the login page itself) asks the other tabs first.
if (!session && channel && !window.location.pathname.startsWith('/login')) {
  const nonce = crypto.randomUUID();
  askNonce = nonce;
  const giveUp = () => {
    if (askNonce !== nonce) return;
    if (!session && sessionStorage.getItem(FLASH_KEY) === null)
      setFlash(startReason ?? t('本浏览器中没有已登录的标签页，请登录'));
    finishHandover();
  };
  void anotherTabHoldsASession().then((exists) => {
    if (!exists) return giveUp();
    post({ type: 'ask', nonce });
    setTimeout(giveUp, HANDOVER_WAIT_MS);
  });
} else if (!session && startReason) {
  setFlash(startReason);
}

/** Signs out in every tab of this browser: the server has revoked every token of the person already. */
export function announceLogout(staffId: string): void {
  post({ type: 'logout', staffId });
}

// ─── Session upkeep: refresh the token while the person is active ───────────────────────────────

let lastActivity = Date.now();
for (const ev of ['keydown', 'pointerdown', 'scroll']) {
  window.addEventListener(ev, () => {
    lastActivity = Date.now();
  });
}

async function refreshIfActive() {
  const s = session;
  if (!s) return;
  const left = new Date(s.expiresAt).getTime() - Date.now();
  if (left <= 0) {
    endSession(t('登录已过期，请重新登录'));
    return;
  }
  // Refresh in the last 10 minutes, only if someone used the page in the last 20.
  if (left < 10 * 60_000 && Date.now() - lastActivity < 20 * 60_000) {
    try {
      setSession(await request<Session>('POST', '/api/v1/auth/refresh'));
    } catch {
      // a 401 has already ended the session; anything else is retried next minute
    }
  }
}
setInterval(() => void refreshIfActive(), 60_000);

// ─── Attachments (raw bytes, not JSON) ───────────────────────────────────────────────────────────

export interface Attachment {
  id: string;
  fileName: string;
  mediaType: string;
  sizeBytes: number;
}

async function problemOf(res: Response): Promise<ApiError> {
  const p = (await res.json().catch(() => ({}))) as Partial<{
    title: string;
    detail: string;
    errors: FieldError[];
  }>;
  if (res.status === 401 && session) endSession(p.detail ?? t('登录已过期，请重新登录'));
  return new ApiError(
    res.status,
    p.title ?? `HTTP ${res.status}`,
    p.detail ?? '请求无法处理，请检查后重试',
    p.errors,
  );
}

export async function uploadAttachment(file: File): Promise<Attachment> {
  const res = await fetch(`/api/v1/attachments?filename=${encodeURIComponent(file.name)}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${session?.token ?? ''}`,
      'content-type': file.type || 'application/octet-stream',
    },
    body: file,
  }).catch(() => {
    throw new ApiError(0, t('无法连接服务器，请检查网络后重试'), t('无法连接服务器，请检查网络后重试'));
  });
  if (!res.ok) throw await problemOf(res);
  return (await res.json()) as Attachment;
}

/** Downloads with the bearer token (a plain link cannot send it) and saves under the file's name. */
export async function downloadAttachment(id: string): Promise<void> {
  await downloadFile(`/api/v1/attachments/${encodeURIComponent(id)}`, {}, id);
}

/**
 * GETs a file with the bearer token and saves it under the name of its Content-Disposition (RFC 5987
 * `filename*=UTF-8''…`), or `fallbackName`.
 */
export async function downloadFile(path: string, query: Query, fallbackName: string): Promise<string> {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') qs.set(k, String(v));
  const res = await fetch(`${path}${qs.size ? `?${qs}` : ''}`, {
    headers: { authorization: `Bearer ${session?.token ?? ''}` },
  }).catch(() => {
    throw new ApiError(0, t('无法连接服务器，请检查网络后重试'), t('无法连接服务器，请检查网络后重试'));
  });
  if (!res.ok) throw await problemOf(res);
  const encoded = /filename\*=UTF-8''([^;]+)/i.exec(res.headers.get('content-disposition') ?? '')?.[1];
  let name = fallbackName;
  try {
    if (encoded) name = decodeURIComponent(encoded);
  } catch {
    // a malformed name: keep the fallback
  }
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
}
