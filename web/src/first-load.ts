/**
 * The first screen's data, asked for as soon as this module runs: before antd and the pages are evaluated
 * and rendered (seconds on a slow CPU), instead of from the pages' effects after the first render. The pages
 * take these answers through `api.get` (see `prefetch` in api.ts); nothing here renders anything.
 * Imported first by main.tsx, so that it runs first.
 */
import { api, currentSession } from './api.ts';
import { firstListRequests } from './pages/list-tabs.ts';

if (currentSession()) {
  // The shell's: units and catalog (names and labels everywhere) and the bell's notifications.
  api.prefetch('/api/v1/units');
  api.prefetch('/api/v1/catalog');
  api.prefetch('/api/v1/notifications', { limit: 20 });
  for (const [path, query] of firstListRequests(window.location.pathname)) api.prefetch(path, query);
}
