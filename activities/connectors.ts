/**
 * Connectors: data sources a catalog item may name so that the engine answers a case from data (Art. 3, "data
 * first, manual second"). Two kinds:
 *
 * - `http`: a government data-sharing exchange's JSON interface. Each request is signed with the application
 *   key and secret the exchange issued (domain/data-exchange.ts: timestamp, nonce, body hash, HMAC-SHA256).
 * - `sql`: one parameterised query on a configured PostgreSQL view, run in a READ ONLY transaction with a
 *   statement timeout.
 *
 * Both return records; `evaluate` turns them into an outcome with the item's field mapping: exactly one
 * record whose identity matches the subject is a clear match (the answer's fields from the mapping, the
 * result from comparing what the applicant declared with the record); none, several, or one under another
 * name go to a person. Secrets come from configuration only (the file of CONNECTORS_FILE, or environment
 * variables it names) and never leave this module: `describe` is what anyone else may see.
 */
import { readFileSync } from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import type { Db } from '../db/client.ts';
import { evidenceHash, signRequest } from '../domain/data-exchange.ts';
import { maskIdNumber } from '../domain/personal-data.ts';
import { CONNECTOR_FAILURES } from '../workflows/activity-options.ts';
import type { ResponseResult, Subject } from '../workflows/definitions.ts';

/** How a source's record maps onto the case (both kinds). */
export interface ConnectorMapping {
  /** Dotted path of the records array in the response (HTTP; SQL rows are the records). */
  recordsPath?: string;
  /** Record fields that must equal the subject's ID number and name for the record to be the subject's. */
  match: { idNumber: string; name?: string };
  /** The answer's fields (response template) ← record fields. */
  fields: Record<string, string>;
  /**
   * The result: `consistent` when each request field (what the applicant declared) equals the named answer
   * field, ignoring spaces; otherwise `inconsistent`.
   */
  compare?: { declared: string; answer: string }[];
}

interface ConnectorBase {
  name: string;
  /** The data source as people read it (数据来源), e.g. 公安局人口信息库（数据共享交换平台）. */
  label: string;
  /** Milliseconds one query may take (default 5000). */
  timeoutMs?: number;
  mapping: ConnectorMapping;
}

export interface HttpConnectorConfig extends ConnectorBase {
  kind: 'http';
  /** Full URL of the interface (POST, JSON body). */
  url: string;
  appKey: string;
  /** The secret itself (from a config file outside the repository), or… */
  appSecret?: string;
  /** …the name of the environment variable that holds it. */
  appSecretEnv?: string;
  /** The JSON body: property ← dotted path in the query (`subject.idNumber`, `subject.name`, `fields.x`). */
  body: Record<string, string>;
  /** Dotted path of a status code in the response, and its success value (e.g. `code`, 0). */
  successPath?: string;
  successValue?: unknown;
}

export interface SqlConnectorConfig extends ConnectorBase {
  kind: 'sql';
  /** A SELECT with $1… placeholders, e.g. `select * from hukou_view where id_number = $1`. */
  query: string;
  /** The placeholders' values, in order: dotted paths in the query. */
  params: string[];
  /** A PostgreSQL URL (or `databaseUrlEnv`); neither: the engine's own database. */
  databaseUrl?: string;
  databaseUrlEnv?: string;
}

export type ConnectorConfig = HttpConnectorConfig | SqlConnectorConfig;

/** What the engine asks a connector. */
export interface ConnectorQuery {
  caseId: string;
  subject: Subject;
  fields: Record<string, unknown>;
}

/** What anyone may see of a connector (no URL credentials, keys or secrets). */
export interface ConnectorDescription {
  name: string;
  kind: ConnectorConfig['kind'];
  label: string;
}

export type ConnectorOutcome =
  | {
      outcome: 'match';
      result: ResponseResult;
      fields: Record<string, unknown>;
      evidenceHash: string;
    }
  | { outcome: 'no_match' | 'ambiguous' | 'mismatch'; reason: string; evidenceHash: string };

export interface Connector extends ConnectorDescription {
  mapping: ConnectorMapping;
  /** The source's raw answer (for the evidence hash) and its records. */
  fetch(q: ConnectorQuery): Promise<{ response: unknown; records: Record<string, unknown>[] }>;
  close?(): Promise<void>;
}

export interface ConnectorRegistry {
  get(name: string): Connector | undefined;
  names(): string[];
  describe(name: string): ConnectorDescription | undefined;
  close(): Promise<void>;
}

// ─── Failures (named types: the workflow's retry policy and its Chinese reasons depend on them) ─────

const failure = (type: string, message: string, nonRetryable = false): ApplicationFailure =>
  ApplicationFailure.create({ type, message, nonRetryable });

export const connectorTimeout = (ms: number) =>
  failure(CONNECTOR_FAILURES.timeout, `数据源查询超时（超过 ${Math.round(ms / 100) / 10} 秒未答复）`);
export const connectorUnavailable = (detail: string) =>
  failure(CONNECTOR_FAILURES.unavailable, `数据源服务异常（${detail}）`);
export const connectorRefused = (detail: string) =>
  failure(CONNECTOR_FAILURES.refused, `数据源拒绝了查询（${detail}）`, true);
export const connectorNotConfigured = (name: string) =>
  failure(CONNECTOR_FAILURES.notConfigured, `未配置数据源连接器「${name}」`, true);

// ─── Paths and values ───────────────────────────────────────────────────────────────────────────

export function pick(value: unknown, path: string): unknown {
  let v: unknown = value;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

const norm = (v: unknown): string =>
  String(v ?? '')
    .normalize('NFKC')
    .replace(/\s+/g, '')
    .toUpperCase();

// ─── Evaluation (pure) ──────────────────────────────────────────────────────────────────────────

export function evaluate(
  mapping: ConnectorMapping,
  q: ConnectorQuery,
  response: unknown,
  records: Record<string, unknown>[],
): ConnectorOutcome {
  const hash = evidenceHash(response);
  const masked = maskIdNumber(q.subject.idNumber);
  const mine = records.filter((r) => norm(r[mapping.match.idNumber]) === norm(q.subject.idNumber));
  if (mine.length === 0)
    return {
      outcome: 'no_match',
      reason: `数据源中没有身份证号 ${masked} 的记录`,
      evidenceHash: hash,
    };
  if (mine.length > 1)
    return {
      outcome: 'ambiguous',
      reason: `数据源中身份证号 ${masked} 有 ${mine.length} 条记录，无法唯一确定`,
      evidenceHash: hash,
    };
  const record = mine[0] as Record<string, unknown>;
  const nameField = mapping.match.name;
  if (nameField && norm(record[nameField]) !== norm(q.subject.name))
    return {
      outcome: 'mismatch',
      reason: '数据源记录的姓名与协查对象的姓名不一致，需人工核实',
      evidenceHash: hash,
    };
  const fields: Record<string, unknown> = {};
  for (const [answerField, recordField] of Object.entries(mapping.fields)) {
    const v = record[recordField];
    if (v === undefined || v === null || v === '')
      return {
        outcome: 'mismatch',
        reason: `数据源记录缺少「${answerField}」对应的数据，需人工核实`,
        evidenceHash: hash,
      };
    fields[answerField] = typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  const consistent = (mapping.compare ?? []).every(
    (c) => norm(pick(q, `fields.${c.declared}`)) === norm(fields[c.answer]),
  );
  return {
    outcome: 'match',
    result: consistent ? 'consistent' : 'inconsistent',
    fields,
    evidenceHash: hash,
  };
}

// ─── HTTP (data-sharing exchange) ───────────────────────────────────────────────────────────────

const DEFAULT_TIMEOUT_MS = 5000;

function secretOf(c: HttpConnectorConfig, env: NodeJS.ProcessEnv): string {
  const secret = c.appSecret ?? (c.appSecretEnv ? env[c.appSecretEnv] : undefined);
  if (!secret) throw new Error(`connector ${c.name}: no appSecret (set appSecretEnv's variable)`);
  return secret;
}

export function httpConnector(c: HttpConnectorConfig, env: NodeJS.ProcessEnv = process.env): Connector {
  const secret = secretOf(c, env);
  const url = new URL(c.url);
  const timeoutMs = c.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return {
    name: c.name,
    kind: 'http',
    label: c.label,
    mapping: c.mapping,
    async fetch(q) {
      const payload: Record<string, unknown> = {};
      for (const [prop, path] of Object.entries(c.body)) payload[prop] = pick(q, path);
      const body = JSON.stringify(payload);
      const headers = signRequest({
        appKey: c.appKey,
        appSecret: secret,
        method: 'POST',
        path: url.pathname + url.search,
        body,
      });
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        const name = (err as Error)?.name;
        if (name === 'TimeoutError' || name === 'AbortError') throw connectorTimeout(timeoutMs);
        throw connectorUnavailable('无法连接数据源');
      }
      let text: string;
      try {
        text = await res.text();
      } catch {
        throw connectorTimeout(timeoutMs);
      }
      if (res.status >= 500 || res.status === 429) throw connectorUnavailable(`HTTP ${res.status}`);
      if (res.status >= 400) {
        const code = (() => {
          try {
            return String((JSON.parse(text) as { code?: unknown }).code ?? '');
          } catch {
            return '';
          }
        })();
        throw connectorRefused(`HTTP ${res.status}${code ? `：${code}` : ''}`);
      }
      let response: unknown;
      try {
        response = JSON.parse(text);
      } catch {
        throw connectorUnavailable('答复不是 JSON');
      }
      if (c.successPath && pick(response, c.successPath) !== (c.successValue ?? 0))
        throw connectorUnavailable(`业务状态 ${String(pick(response, c.successPath))}`);
      const records = c.mapping.recordsPath ? pick(response, c.mapping.recordsPath) : response;
      if (!Array.isArray(records)) throw connectorUnavailable('答复中没有记录列表');
      return { response, records: records as Record<string, unknown>[] };
    },
  };
}

// ─── SQL (a PostgreSQL view, read only) ─────────────────────────────────────────────────────────

/** Runs one parameterised query in a READ ONLY transaction with a statement timeout. */
export type ReadOnlyQuery = (
  query: string,
  params: unknown[],
  timeoutMs: number,
) => Promise<Record<string, unknown>[]>;

const timeoutSql = (ms: number) => `set local statement_timeout = ${Math.max(1, Math.floor(ms))}`;

/** On the engine's own database (drizzle: PGlite or pg). */
export function drizzleReadOnly(db: Db): ReadOnlyQuery {
  return (query, params, timeoutMs) =>
    db.transaction(async (tx) => {
      await tx.execute(sql.raw('set transaction read only'));
      await tx.execute(sql.raw(timeoutSql(timeoutMs)));
      // `$n` placeholders become bound parameters.
      const chunks = query.split(/\$(\d+)/);
      const parts = chunks.map((chunk, i) =>
        i % 2 === 0 ? sql.raw(chunk) : sql`${params[Number(chunk) - 1]}`,
      );
      const result = (await tx.execute(sql.join(parts, sql.raw('')))) as unknown as {
        rows: Record<string, unknown>[];
      };
      return result.rows;
    });
}

/** On another PostgreSQL server (a pool of two connections). */
export function pgReadOnly(url: string): ReadOnlyQuery & { close(): Promise<void> } {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => {});
  const run = async (query: string, params: unknown[], timeoutMs: number) => {
    const conn = await pool.connect();
    try {
      await conn.query('begin read only');
      await conn.query(timeoutSql(timeoutMs));
      const { rows } = await conn.query(query, params);
      await conn.query('commit');
      return rows as Record<string, unknown>[];
    } catch (err) {
      await conn.query('rollback').catch(() => {});
      throw err;
    } finally {
      conn.release();
    }
  };
  return Object.assign(run, { close: () => pool.end() });
}

const STATEMENT_TIMEOUT = '57014';

export function sqlConnector(c: SqlConnectorConfig, run: ReadOnlyQuery): Connector {
  const timeoutMs = c.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return {
    name: c.name,
    kind: 'sql',
    label: c.label,
    mapping: c.mapping,
    async fetch(q) {
      let rows: Record<string, unknown>[];
      try {
        rows = await run(
          c.query,
          c.params.map((p) => pick(q, p)),
          timeoutMs,
        );
      } catch (err) {
        if ((err as { code?: string })?.code === STATEMENT_TIMEOUT) throw connectorTimeout(timeoutMs);
        throw connectorUnavailable('数据库查询失败');
      }
      // Dates and numbers as text, so the evidence hash is the same whatever the driver returns.
      const records = rows.map((r) =>
        Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v])),
      );
      return { response: { rows: records }, records };
    },
    close: (run as { close?: () => Promise<void> }).close,
  };
}

// ─── Configuration ──────────────────────────────────────────────────────────────────────────────

const NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** Checks one connector's configuration; throws naming the connector and the field. */
export function checkConnectorConfig(c: unknown, env: NodeJS.ProcessEnv = process.env): ConnectorConfig {
  const o = c as Partial<ConnectorConfig> & Record<string, unknown>;
  const bad = (field: string, why: string): never => {
    throw new Error(`connector ${String(o?.name ?? '?')}: ${field} ${why}`);
  };
  if (!o || typeof o !== 'object') bad('entry', 'must be an object');
  if (typeof o.name !== 'string' || !NAME.test(o.name)) bad('name', 'must match [a-z0-9-]{1,40}');
  if (typeof o.label !== 'string' || !o.label.trim()) bad('label', 'is required');
  const m = o.mapping as ConnectorMapping | undefined;
  if (!m || typeof m.match?.idNumber !== 'string') bad('mapping.match.idNumber', 'is required');
  if (!m?.fields || typeof m.fields !== 'object') bad('mapping.fields', 'is required');
  if (o.timeoutMs !== undefined && (!Number.isInteger(o.timeoutMs) || (o.timeoutMs as number) < 100))
    bad('timeoutMs', 'must be an integer ≥ 100');
  if (o.kind === 'http') {
    const h = o as HttpConnectorConfig;
    try {
      new URL(h.url);
    } catch {
      bad('url', 'must be a URL');
    }
    if (typeof h.appKey !== 'string' || !h.appKey) bad('appKey', 'is required');
    if (!h.appSecret && !(h.appSecretEnv && env[h.appSecretEnv]))
      bad('appSecret', `is required (or appSecretEnv naming a set variable)`);
    if (!h.body || typeof h.body !== 'object') bad('body', 'is required');
  } else if (o.kind === 'sql') {
    const s = o as SqlConnectorConfig;
    if (typeof s.query !== 'string' || !/^\s*(select|with)\s/i.test(s.query))
      bad('query', 'must be a SELECT');
    if (s.query.includes(';')) bad('query', 'must be one statement');
    if (!Array.isArray(s.params)) bad('params', 'must be a list');
    if (s.databaseUrlEnv && !env[s.databaseUrlEnv]) bad('databaseUrlEnv', 'names an unset variable');
  } else bad('kind', 'must be http or sql');
  return o as ConnectorConfig;
}

/** The connectors of CONNECTORS_FILE (a JSON list), checked; none when unset. */
export function loadConnectorConfigs(env: NodeJS.ProcessEnv = process.env): ConnectorConfig[] {
  const file = env.CONNECTORS_FILE;
  if (!file) return [];
  let list: unknown;
  try {
    list = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`CONNECTORS_FILE: cannot read ${file} as JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(list)) throw new Error('CONNECTORS_FILE: must hold a JSON list of connectors');
  const configs = list.map((c) => checkConnectorConfig(c, env));
  const names = new Set<string>();
  for (const c of configs) {
    if (names.has(c.name)) throw new Error(`CONNECTORS_FILE: connector ${c.name} is listed twice`);
    names.add(c.name);
  }
  return configs;
}

/** The registry of the configured connectors; SQL ones without a URL query `db`. */
export function createConnectorRegistry(
  configs: ConnectorConfig[],
  opts: { db?: Db; env?: NodeJS.ProcessEnv } = {},
): ConnectorRegistry {
  const env = opts.env ?? process.env;
  const connectors = new Map<string, Connector>();
  for (const c of configs) {
    if (c.kind === 'http') connectors.set(c.name, httpConnector(c, env));
    else {
      const url = c.databaseUrl ?? (c.databaseUrlEnv ? env[c.databaseUrlEnv] : undefined);
      if (!url && !opts.db) throw new Error(`connector ${c.name}: no database to query`);
      connectors.set(c.name, sqlConnector(c, url ? pgReadOnly(url) : drizzleReadOnly(opts.db as Db)));
    }
  }
  return {
    get: (name) => connectors.get(name),
    names: () => [...connectors.keys()],
    describe(name) {
      const c = connectors.get(name);
      return c ? { name: c.name, kind: c.kind, label: c.label } : undefined;
    },
    async close() {
      await Promise.all([...connectors.values()].map((c) => c.close?.()));
    },
  };
}
