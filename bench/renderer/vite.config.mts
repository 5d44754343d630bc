// Builds the renderer benchmark page (npm run bench builds it; it is not part of the app).
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

const here = dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: here,
  base: './',
  plugins: [vue()],
  // BENCH_UNMINIFIED=1: function names a profiler can read.
  build: {
    outDir: resolve(here, '../../out/bench-renderer'),
    emptyOutDir: true,
    minify: !process.env.BENCH_UNMINIFIED,
  },
  logLevel: 'warn',
});
