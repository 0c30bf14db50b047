/**
 * METRICS_PORT: the process's `/metrics` on a listener of its own (node:http, a few lines), bound to
 * METRICS_HOST (loopback unless set), so the operators' Prometheus can scrape the API and the worker
 * without the metrics ever being on the public port. With METRICS_TOKEN set it asks for that token here
 * too. Anything but `GET /metrics` is a 404.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { type AppMetrics, METRICS_CONTENT_TYPE, tokenMatches } from '../api/services/metrics.ts';

export interface MetricsServer {
  /** The bound port (the configured one, or the one chosen for port 0 in tests). */
  port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(opts: {
  metrics: AppMetrics;
  host: string;
  port: number;
  token?: string;
  log?: Logger;
}): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    if (opts.token && !tokenMatches(req.headers.authorization, opts.token)) {
      res
        .writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer' })
        .end('METRICS_TOKEN required\n');
      return;
    }
    void opts.metrics.render().then(
      (text) => res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(text),
      (err) => {
        opts.log?.error({ err }, 'metrics could not be rendered');
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics failed\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  opts.log?.info({ host: opts.host, port }, 'metrics listening (/metrics)');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
