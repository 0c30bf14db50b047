/**
 * The web application (web/), served by the API process from the same origin: the built files of
 * `web/dist`, with a fallback to `index.html` for every other GET that is not under /api/, so the
 * single-page application's own paths (/cases/…, /inbox, /letters/…) survive a reload or a bookmark.
 * Hashed assets are cached for a year; index.html is never cached, so a new build is picked up at once.
 * JavaScript and CSS go out precompressed (brotli, else gzip) when the browser accepts it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { Problem } from '../problem.ts';

/** The built web application; WEB_DIST_DIR serves another build (bench/tti.ts compares two builds). */
export const WEB_DIST_DIR =
  process.env.WEB_DIST_DIR || fileURLToPath(new URL('../../web/dist', import.meta.url));

const NOT_BUILT = `<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>协查核验</title>
<body style="font-family:sans-serif;max-width:40rem;margin:4rem auto;line-height:1.6">
<h1>网页界面尚未构建</h1><p>请在项目目录运行 <code>npm run web:build</code>（或直接 <code>npm start</code>，首次启动会自动构建），然后刷新本页。</p>
<p>The web UI has not been built yet: run <code>npm run web:build</code>, then reload.</p></body></html>`;

/** Paths the SPA never owns: the API, its docs and health endpoints answer their own 404s. */
const isApiPath = (url: string) => /^\/(api|docs|openapi\.json|healthz|readyz)(\/|\?|$)/.test(url);

export const webRoutes: FastifyPluginAsync<{ distDir?: string }> = async (app, opts) => {
  const root = opts.distDir ?? WEB_DIST_DIR;
  const built = existsSync(path.join(root, 'index.html'));

  if (built) {
    await app.register(fastifyStatic, {
      root,
      wildcard: false,
      index: false,
      // The build writes `x.br` and `x.gz` next to every text asset (web/vite.config.ts): sent as is to
      // browsers that accept them (content-encoding br or gzip, vary: accept-encoding), never compressed
      // per request.
      preCompressed: true,
      setHeaders(reply, file) {
        reply.header(
          'cache-control',
          file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    });
  }

  const fallback = async (req: FastifyRequest, reply: FastifyReply) => {
    if (isApiPath(req.url)) {
      throw new Problem(404, '未找到', `没有这个地址：${req.method} ${req.url.split('?')[0]}`);
    }
    reply.header('cache-control', 'no-cache');
    if (!built) return reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT);
    return reply.sendFile('index.html');
  };

  // Public: the page itself needs no login (the API calls it makes do); unknown /api paths answer 404.
  app.get('/', { schema: { hide: true }, config: { public: true } }, fallback);
  app.get('/*', { schema: { hide: true }, config: { public: true } }, fallback);
};
