/**
 * New work appears without reloading. One connection per tab: server-sent events through a short-lived
 * ticket (`POST /api/v1/stream/ticket`, then `GET /api/v1/stream?ticket=…`; EventSource cannot send an
 * Authorization header). If the stream route is not there, or the stream keeps failing, pages are told
 * to refresh every few seconds instead (polling), and the stream is tried again later.
 */
import { useEffect, useRef, useSyncExternalStore } from 'react';
import { api, currentSession, isMissingRoute, onSessionChange } from './api.ts';

export interface LiveEvent {
  type: 'case' | 'poll' | string;
  caseId?: string;
  eventType?: string;
  [k: string]: unknown;
}

export type LiveMode = 'off' | 'sse' | 'polling';

const POLL_MS = 4000;
const subscribers = new Set<(e: LiveEvent) => void>();
const modeListeners = new Set<() => void>();
let mode: LiveMode = 'off';
let source: EventSource | undefined;
let pollTimer: ReturnType<typeof setInterval> | undefined;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let failures = 0;
let generation = 0;
/** The id of the last event received: a new stream resumes after it (or the server says `resync`). */
let lastEventId = '';

function setMode(m: LiveMode) {
  if (mode === m) return;
  mode = m;
  for (const l of modeListeners) l();
}

function emit(e: LiveEvent) {
  for (const s of subscribers) s(e);
}

function startPolling() {
  setMode('polling');
  pollTimer ??= setInterval(() => emit({ type: 'poll' }), POLL_MS);
}

function stopPolling() {
  if (pollTimer) clearInterval(pollTimer);
  pollTimer = undefined;
}

function stop() {
  generation++;
  connecting = false;
  source?.close();
  source = undefined;
  stopPolling();
  if (retryTimer) clearTimeout(retryTimer);
  retryTimer = undefined;
  setMode('off');
}

/** True from a connection's ticket request until its stream opened or failed: one connection at a time. */
let connecting = false;

async function connect() {
  const gen = ++generation;
  if (!currentSession()) return;
  connecting = true;
  let ticket: string;
  try {
    const r = await api.post<{ ticket: string }>('/api/v1/stream/ticket', {});
    ticket = r.ticket;
  } catch (e) {
    if (gen !== generation) return;
    connecting = false;
    startPolling();
    // The route may be added later (or the server restarted): try again in a while.
    retryTimer = setTimeout(() => void connect(), isMissingRoute(e) ? 60_000 : 10_000);
    return;
  }
  if (gen !== generation) return;
  const resume = lastEventId ? `&lastEventId=${encodeURIComponent(lastEventId)}` : '';
  const es = new EventSource(`/api/v1/stream?ticket=${encodeURIComponent(ticket)}${resume}`);
  source = es;
  es.onopen = () => {
    connecting = false;
    failures = 0;
    stopPolling();
    setMode('sse');
    // Anything that happened while disconnected: let pages refresh once.
    emit({ type: 'poll' });
  };
  // The server names its events: `case` (a case of the unit changed), `notification`, `ready`, `resync`.
  const forward = (m: MessageEvent<string>) => {
    if (m.lastEventId) lastEventId = m.lastEventId;
    try {
      emit(JSON.parse(m.data) as LiveEvent);
    } catch {
      // not JSON: ignore
    }
  };
  es.addEventListener('case', forward);
  es.addEventListener('notification', forward);
  // The server may have missed events (its database listener reconnected, or this stream could not be
  // resumed): refetch what the pages show.
  es.addEventListener('resync', (m: MessageEvent<string>) => {
    if (m.lastEventId) lastEventId = m.lastEventId;
    emit({ type: 'poll' });
  });
  es.onmessage = forward;
  es.onerror = () => {
    if (gen !== generation) return;
    // A ticket is single-use: reconnect with a new one, polling meanwhile.
    connecting = false;
    es.close();
    source = undefined;
    failures++;
    startPolling();
    retryTimer = setTimeout(() => void connect(), Math.min(30_000, 1000 * 2 ** Math.min(failures, 5)));
  };
}

/** Connects unless a connection is up or on its way. */
function ensureConnected() {
  if (mode === 'off' && !connecting && currentSession()) void connect();
}

onSessionChange((s) => {
  if (!s) stop();
  else ensureConnected();
});
// The stream waits until the first screen is drawn (the browser is idle, or 3 s at most): on a slow CPU
// its requests would compete with the first screen's, and its first refresh (on open) would redo them.
if (currentSession()) {
  if (typeof requestIdleCallback === 'function') requestIdleCallback(ensureConnected, { timeout: 3000 });
  else setTimeout(ensureConnected, 1000);
}

/** Calls `handler` for every live event (and every polling tick) while the component is mounted. */
export function useLive(handler: (e: LiveEvent) => void): void {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    const fn = (e: LiveEvent) => ref.current(e);
    subscribers.add(fn);
    return () => {
      subscribers.delete(fn);
    };
  }, []);
}

export function useLiveMode(): LiveMode {
  return useSyncExternalStore(
    (cb) => {
      modeListeners.add(cb);
      return () => modeListeners.delete(cb);
    },
    () => mode,
  );
}
