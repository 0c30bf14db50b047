/**
 * The embedded demo's data source: a small, real HTTP service on loopback in the style of a government
 * data-sharing exchange (数据共享交换平台), holding a sample 户籍 table of a few fictitious people. It enforces
 * the exchange's signature (domain/data-exchange.ts): an unknown application key, a body that does not match
 * its hash, a bad signature, a timestamp more than 5 minutes off and a nonce used before are refused with
 * 401 and a code. `npm start` runs it beside the API with a fresh key and secret (never written anywhere)
 * and connects catalog item HJ-001 to it (`DEMO_CONNECTOR`), so a 户籍 verification of a sample person is
 * answered by the system within seconds and any other lands in the issuing unit's inbox.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { HttpConnectorConfig } from '../activities/connectors.ts';
import { DEMO_CONNECTOR } from '../db/seed.ts';
import { NonceCache, type SignatureRefusal, verifySignedRequest } from '../domain/data-exchange.ts';

/** 常住人口登记 sample: fictitious people; the ID numbers carry valid GB 11643 check digits. */
export const DEMO_HUKOU_RECORDS = [
  {
    xm: '李明华',
    sfzhm: '370303198503120043',
    xb: '女',
    csrq: '1985-03-12',
    hjdz: '山东省淄博市张店区人民西路 88 号 3 号楼 2 单元 501 室',
    djjg: '淄博市公安局张店分局车站派出所',
  },
  {
    xm: '王建国',
    sfzhm: '370302199007180037',
    xb: '男',
    csrq: '1990-07-18',
    hjdz: '山东省淄博市淄川区般阳路 16 号',
    djjg: '淄博市公安局淄川分局般阳派出所',
  },
  {
    xm: '刘秀英',
    sfzhm: '370304197811050026',
    xb: '女',
    csrq: '1978-11-05',
    hjdz: '山东省淄博市博山区新建路 5 号',
    djjg: '淄博市公安局博山分局城东派出所',
  },
  {
    xm: '张伟',
    sfzhm: '370321199512200018',
    xb: '男',
    csrq: '1995-12-20',
    hjdz: '山东省淄博市桓台县少海路 120 号',
    djjg: '桓台县公安局索镇派出所',
  },
  {
    xm: '陈桂兰',
    sfzhm: '370303196301010066',
    xb: '女',
    csrq: '1963-01-01',
    hjdz: '山东省淄博市张店区共青团西路 21 号',
    djjg: '淄博市公安局张店分局公园派出所',
  },
] as const;

export const DEMO_HUKOU_PATH = '/gateway/api/gaj/hukou/v1/query';

const REFUSAL_TEXT: Record<SignatureRefusal, string> = {
  missing_headers: '缺少签名参数',
  unknown_app: '应用标识无效',
  bad_body_hash: '请求体摘要不符',
  bad_signature: '签名无效',
  clock_skew: '请求时间与服务器时间相差超过 5 分钟',
  replayed_nonce: '请求随机数已使用（重放）',
};

export interface DemoDataService {
  url: string;
  /** The connector that reaches it (with its secret: for the process's registry only). */
  connector: HttpConnectorConfig;
  /** Requests answered and refused so far. */
  stats: { answered: number; refused: Record<string, number> };
  close(): Promise<void>;
}

/** The connector configuration for a demo service at `url` (the same mapping a real exchange would get). */
export function demoHukouConnector(url: string, appKey: string, appSecret: string): HttpConnectorConfig {
  return {
    name: DEMO_CONNECTOR,
    kind: 'http',
    label: '公安局常住人口信息（数据共享交换平台·演示）',
    url,
    appKey,
    appSecret,
    timeoutMs: 5000,
    body: { sfzhm: 'subject.idNumber', xm: 'subject.name' },
    successPath: 'code',
    successValue: 0,
    mapping: {
      recordsPath: 'data.records',
      match: { idNumber: 'sfzhm', name: 'xm' },
      fields: { registeredAddress: 'hjdz', remark: 'djjg' },
      compare: [{ declared: 'declaredAddress', answer: 'registeredAddress' }],
    },
  };
}

export async function startDemoDataService(
  opts: {
    host?: string;
    /** 0 (default): a free port. */
    port?: number;
    log?: Logger;
    appKey?: string;
    appSecret?: string;
    /** The service's clock (tests of the skew rule). */
    now?: () => number;
  } = {},
): Promise<DemoDataService> {
  const appKey = opts.appKey ?? `demo-${randomBytes(4).toString('hex')}`;
  const appSecret = opts.appSecret ?? randomBytes(32).toString('base64');
  const nonces = new NonceCache();
  const stats: DemoDataService['stats'] = { answered: 0, refused: {} };
  const now = opts.now ?? Date.now;

  const send = (res: http.ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(text);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 64 * 1024) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.method !== 'POST' || req.url !== DEMO_HUKOU_PATH)
        return send(res, 404, { code: 'not_found', message: '接口不存在' });
      const check = verifySignedRequest({
        method: req.method,
        path: req.url,
        headers: req.headers,
        body,
        secretOf: (key) => (key === appKey ? appSecret : undefined),
        nonces,
        now: now(),
      });
      if (!check.ok) {
        stats.refused[check.refusal] = (stats.refused[check.refusal] ?? 0) + 1;
        opts.log?.warn({ refusal: check.refusal }, 'demo data service: request refused');
        return send(res, 401, { code: check.refusal, message: REFUSAL_TEXT[check.refusal] });
      }
      let query: { sfzhm?: unknown };
      try {
        query = JSON.parse(body) as { sfzhm?: unknown };
      } catch {
        return send(res, 400, { code: 'bad_request', message: '请求体不是 JSON' });
      }
      if (typeof query.sfzhm !== 'string')
        return send(res, 400, { code: 'bad_request', message: '缺少 sfzhm' });
      const id = query.sfzhm.toUpperCase();
      stats.answered += 1;
      return send(res, 200, {
        code: 0,
        message: 'success',
        requestId: randomUUID(),
        data: { records: DEMO_HUKOU_RECORDS.filter((r) => r.sfzhm === id) },
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address}:${port}${DEMO_HUKOU_PATH}`;
  return {
    url,
    connector: demoHukouConnector(url, appKey, appSecret),
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
