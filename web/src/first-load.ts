/**
 * The first screen's data, asked for as soon as this module runs: before anything is drawn, and long before
 * antd and the pages are evaluated and rendered (seconds on a slow CPU). The first screen (first-screen.ts)
 * draws from these answers and the pages take them through `api.get` (see `prefetch` in api.ts); nothing
 * here renders anything. Imported first by boot.ts, the page's entry, so that it runs first.
 */
import { api, currentSession } from './api.ts';
import { BELL_PATH, BELL_QUERY } from './bell-request.ts';
import { firstListRequests } from './pages/list-tabs.ts';

if (currentSession()) {
  // The list first (the first screen draws it), its units' names and its tabs' counts, then what the full
  // page's frame needs: the catalog (names and labels everywhere) and the bell's notifications.
  const [list, counts] = firstListRequests(window.location.pathname);
  if (list) void api.prefetch(...list);
  void api.prefetch('/api/v1/units');
  if (counts) void api.prefetch(...counts);
  void api.prefetch('/api/v1/catalog');
  void api.prefetch(BELL_PATH, BELL_QUERY);
}
