/**
 * Vite config of the web application. `npm run web:build` writes web/dist (served by the API process);
 * `npm run web:dev` serves the sources with hot reload and forwards /api to the API on :3000
 * (API_PORT to change it).
 */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const api = `http://127.0.0.1:${process.env.API_PORT ?? '3000'}`;

export default defineConfig({
  root,
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // antd, rjsf and ECharts are large; the pages that need ECharts load it on demand.
    chunkSizeWarningLimit: 2000,
  },
  server: {
    proxy: { '/api': api, '/docs': api, '/openapi.json': api },
  },
});
