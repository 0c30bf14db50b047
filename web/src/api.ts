/**
 * The API client: bearer token, problem+json errors as `ApiError` (Chinese `detail` and field errors),
 * an Idempotency-Key on every POST, and the two session outcomes every page shares: 401 → back to the
 * login page with a message, 403 `password_change_required` → the password page.
 */
import { t } from './i18n.ts';
import { navigate } from './router.tsx';

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
let session: Session | undefined = (() => {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    const s = raw ? (JSON.parse(raw) as Session) : undefined;
    return s && new Date(s.expiresAt).getTime() > Date.now() ? s : undefined;
  } catch {
    return undefined;
  }
})();

export const currentSession = (): Session | undefined => session;

export function setSession(next: Session | undefined): void {
  session = next;
  try {
    if (next) sessionStorage.setItem(SESSION_KEY, JSON.stringify(next));
    else sessionStorage.removeItem(SESSION_KEY);
  } catch {
    // storage unavailable: the session lasts for this page only
  }
  for (const l of listeners) l(next);
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
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(opts.query ?? {}))
    if (v !== undefined && v !== '') qs.set(k, String(v));
  const url = `${path}${qs.size ? `?${qs}` : ''}`;
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

export const api = {
  get: <T>(path: string, query?: Query) => request<T>('GET', path, { query }),
  post: <T>(path: string, body: unknown = {}, idempotencyKey?: string) =>
    request<T>('POST', path, { body, idempotencyKey }),
  put: <T>(path: string, body: unknown = {}) => request<T>('PUT', path, { body }),
  patch: <T>(path: string, body: unknown = {}) => request<T>('PATCH', path, { body }),
  delete: <T>(path: string) => request<T>('DELETE', path),
};

/** Is this route served? (routes added by other work may not exist yet; 404 without a problem code) */
export const isMissingRoute = (e: unknown): boolean =>
  e instanceof ApiError && (e.status === 404 || e.status === 405) && /没有这个地址/.test(e.detail);

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
