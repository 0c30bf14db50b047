/** Loading data in components, and the reference data every page shares (units, catalog). */
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, api, isMissingRoute } from './api.ts';
import { type CatalogItem, itemsOf, type Unit } from './types.ts';

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  /** Loads again; `quiet` keeps the current data on screen (live refresh). */
  reload: (quiet?: boolean) => Promise<void>;
}

/**
 * Whether `value` differs (by its JSON) from what `shown` last held, recording it when it does: a live refresh
 * that brings the same data can then leave the screen as it is.
 */
export function isNewData(shown: { current: string | undefined }, value: unknown): boolean {
  const text = JSON.stringify(value);
  if (text === shown.current) return false;
  shown.current = text;
  return true;
}

export function useApi<T>(
  path: string | undefined,
  query?: Record<string, string | number | boolean | undefined>,
): Loaded<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<ApiError>();
  const [loading, setLoading] = useState(Boolean(path));
  const key = JSON.stringify([path, query]);
  const latest = useRef(key);
  latest.current = key;
  const shown = useRef<string>(undefined);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for path and query
  const reload = useCallback(
    async (quiet = false) => {
      if (!path) return;
      const mine = key;
      if (!quiet) setLoading(true);
      try {
        const d = await api.get<T>(path, query);
        if (latest.current !== mine) return;
        // A live refresh that brings the same data keeps the same object: nothing on screen renders again.
        if (isNewData(shown, d)) setData(d);
        setError(undefined);
      } catch (e) {
        if (latest.current !== mine) return;
        setError(e instanceof ApiError ? e : new ApiError(0, '错误', String(e)));
      } finally {
        if (latest.current === mine) setLoading(false);
      }
    },
    [key],
  );

  useEffect(() => {
    void reload();
  }, [reload]);

  return { data, error, loading, reload };
}

// ─── Units and catalog: loaded once per session, shared ──────────────────────────────────────────

type Cache<T> = { value?: T; missing?: boolean; promise?: Promise<void>; listeners: Set<() => void> };
const unitsCache: Cache<Unit[]> = { listeners: new Set() };
const catalogCache: Cache<CatalogItem[]> = { listeners: new Set() };

function load<T>(cache: Cache<T>, path: string, parse: (d: unknown) => T) {
  cache.promise ??= api
    .get<unknown>(path)
    .then((d) => {
      cache.value = parse(d);
    })
    .catch((e) => {
      cache.missing = isMissingRoute(e);
      cache.value = undefined;
      // allow a retry on the next mount (e.g. after a login)
      setTimeout(() => {
        cache.promise = undefined;
      }, 5000);
    })
    .finally(() => {
      for (const l of cache.listeners) l();
    });
}

function useShared<T>(cache: Cache<T>, path: string, parse: (d: unknown) => T) {
  const [, bump] = useState(0);
  useEffect(() => {
    const l = () => bump((n) => n + 1);
    cache.listeners.add(l);
    load(cache, path, parse);
    return () => {
      cache.listeners.delete(l);
    };
  }, [cache, path, parse]);
  return cache;
}

export function resetSharedData(): void {
  for (const c of [unitsCache, catalogCache] as Cache<unknown>[]) {
    c.value = undefined;
    c.promise = undefined;
    c.missing = undefined;
  }
}

const parseUnits = (d: unknown) => itemsOf<Unit>(d);
const parseCatalog = (d: unknown) => itemsOf<CatalogItem>(d);

export interface UnitsApi {
  units: Unit[];
  /** false when GET /api/v1/units is not served (codes are shown instead of names). */
  available: boolean;
  name: (code: string | null | undefined) => string;
  get: (code: string | null | undefined) => Unit | undefined;
}

export function useUnits(): UnitsApi {
  const c = useShared(unitsCache, '/api/v1/units', parseUnits);
  const units = c.value ?? [];
  const get = (code: string | null | undefined) => units.find((u) => u.code === code);
  return {
    units,
    available: Boolean(c.value),
    get,
    name: (code) => (code ? (get(code)?.name ?? code) : '—'),
  };
}

const NO_CATALOG: CatalogItem[] = [];

export function useCatalog(): {
  items: CatalogItem[];
  available: boolean;
  missing: boolean;
  loaded: boolean;
} {
  const c = useShared(catalogCache, '/api/v1/catalog', parseCatalog);
  return {
    // The same array until the catalog changes (memoised views compare it).
    items: c.value ?? NO_CATALOG,
    available: Boolean(c.value),
    missing: Boolean(c.missing),
    loaded: c.value !== undefined || c.missing !== undefined,
  };
}
