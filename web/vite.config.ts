/**
 * Vite config of the web application. `npm run web:build` writes web/dist (served by the API process);
 * `npm run web:dev` serves the sources with hot reload and forwards /api to the API on :3000
 * (API_PORT to change it).
 *
 * Speed of the first load (a clerk's inbox): the pages that need ECharts (charts), @rjsf + ajv (forms
 * from templates) or the administration are loaded on demand, in chunks of their own (`echarts`,
 * `schema-form`, `Admin`); every text asset is written precompressed next to itself (`.br`, `.gz`) with node's
 * zlib, and the API serves those to browsers that accept them (@fastify/static `preCompressed`).
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const api = `http://127.0.0.1:${process.env.API_PORT ?? '3000'}`;

/** Files worth compressing (text), above a size where compression pays for itself. */
const COMPRESSIBLE = /\.(js|mjs|css|html|svg|json|txt|map)$/;
const MIN_BYTES = 1024;

function* filesUnder(dir: string): Generator<string> {
  for (const entry of readdirSync(dir)) {
    const p = path.join(dir, entry);
    if (statSync(p).isDirectory()) yield* filesUnder(p);
    else yield p;
  }
}

/** Writes `x.br` (brotli, best) and `x.gz` (gzip -9) next to every compressible output file. */
function precompress(): Plugin {
  let outDir = '';
  return {
    name: 'xiecha:precompress',
    apply: 'build',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    writeBundle(options) {
      const dir = options.dir ?? outDir;
      for (const file of filesUnder(dir)) {
        if (!COMPRESSIBLE.test(file)) continue;
        const data = readFileSync(file);
        if (data.length < MIN_BYTES) continue;
        writeFileSync(
          `${file}.br`,
          brotliCompressSync(data, {
            params: {
              [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
              [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
            },
          }),
        );
        writeFileSync(`${file}.gz`, gzipSync(data, { level: 9 }));
      }
    },
  };
}

export default defineConfig({
  root,
  plugins: [react(), precompress()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // antd is large; charts, forms and administration load on demand (see above).
    chunkSizeWarningLimit: 2000,
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [{ name: 'echarts', test: /node_modules[\\/](echarts|zrender)[\\/]/ }],
        },
      },
    },
  },
  server: {
    proxy: { '/api': api, '/docs': api, '/openapi.json': api },
  },
});
