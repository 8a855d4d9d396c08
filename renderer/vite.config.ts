// Builds the renderer into renderer/dist: relative asset URLs (served by `outpost serve` and by
// Electron's app:// protocol alike), no inline scripts (the CSP forbids them). Two pages share the
// components and chunks: index.html (the workstation app) and hub.html (the hub console).
import react from '@vitejs/plugin-react';
import { createRequire } from 'node:module';
import path from 'node:path';
import { defineConfig } from 'vite';

// onnxruntime-web's build that loads its .wasm/.mjs from `env.wasm.wasmPaths` (the what-if explorer
// points that at the assets emitted below) instead of its default bundle, which would inline the
// glue and emit the 28 MB .wasm a second time.
const ortExtern = path.join(path.dirname(createRequire(import.meta.url).resolve('onnxruntime-web')), 'ort.min.mjs');

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [react()],
  resolve: { alias: [{ find: /^onnxruntime-web$/, replacement: ortExtern }] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    reportCompressedSize: false,
    rollupOptions: { input: { app: `${import.meta.dirname}/index.html`, hub: `${import.meta.dirname}/hub.html` } },
  },
});
