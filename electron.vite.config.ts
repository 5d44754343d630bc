// Three builds: the main process (Electron entry, CLI and poll worker share it), the preload
// (CommonJS, for the sandbox) and the renderer.
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import vue from '@vitejs/plugin-vue';

export default defineConfig({
  main: {
    build: {
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src-main/index.ts'),
          cli: resolve(__dirname, 'src-main/serve/cli-main.ts'),
          'poll-worker': resolve(__dirname, 'src-main/serve/poll-worker.ts'),
          'event-worker': resolve(__dirname, 'src-main/serve/event-worker.ts'),
          'sources-worker': resolve(__dirname, 'src-main/serve/sources-worker.ts'),
          helper: resolve(__dirname, 'src-main/serve/helper.ts'),
        },
        // Shared chunks sit beside the entries, so __dirname is out/main in every module (the
        // Poller finds poll-worker.js there).
        output: { chunkFileNames: '[name]-[hash].js' },
      },
    },
  },
  preload: {
    build: {
      rollupOptions: { input: { index: resolve(__dirname, 'src-main/preload.ts') } },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src-renderer'),
    build: {
      rollupOptions: { input: resolve(__dirname, 'src-renderer/index.html') },
    },
    plugins: [vue()],
  },
});
