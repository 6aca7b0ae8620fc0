import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import { fileURLToPath } from 'node:url';
import { rendererMetaCsp } from './src-main/csp.js';

// The renderer: one build that loads from file:// in Electron and from the web server (relative base).
export default defineConfig({
  root: fileURLToPath(new URL('./src-renderer', import.meta.url)),
  base: './',
  plugins: [
    vue(),
    {
      // The page's <meta> CSP is generated from the one policy (src-main/csp.ts), never written by hand.
      name: 'deepbern-csp',
      transformIndexHtml: (html) => html.replace('%DEEPBERN_CSP%', rendererMetaCsp()),
    },
  ],
  build: {
    outDir: fileURLToPath(new URL('./dist/renderer', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    // `npx vite` against a running `deepbern serve`: set DEEPBERN_URL=http://127.0.0.1:<port>
    proxy: process.env.DEEPBERN_URL
      ? {
          '/api': process.env.DEEPBERN_URL,
          '/upload': process.env.DEEPBERN_URL,
          '/events': { target: process.env.DEEPBERN_URL, ws: true },
        }
      : undefined,
  },
});
