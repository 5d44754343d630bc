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
          index: resolve(__dirname, 'src-main/desktop/main.ts'),
          cli: resolve(__dirname, 'src-main/cli/main.ts'),
          'poll-worker': resolve(__dirname, 'src-main/poll/worker.ts'),
          'event-worker': resolve(__dirname, 'src-main/poll/event-worker.ts'),
          'sources-worker': resolve(__dirname, 'src-main/web/sources-worker.ts'),
          'recorder-worker': resolve(__dirname, 'src-main/history/recorder-worker.ts'),
          helper: resolve(__dirname, 'src-main/poll/helper.ts'),
        },
        // Shared chunks sit beside the entries, so __dirname is out/main in every module (the
        // Poller finds poll-worker.js there).
        output: { chunkFileNames: '[name]-[hash].js' },
      },
    },
  },
  preload: {
    build: {
      rollupOptions: { input: { index: resolve(__dirname, 'src-main/desktop/preload.ts') } },
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
