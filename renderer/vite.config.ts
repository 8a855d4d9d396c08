// Builds the renderer into renderer/dist: relative asset URLs (served by `outpost serve` and by
// Electron's app:// protocol alike), no inline scripts (the CSP forbids them). Two pages share the
// components and chunks: index.html (the workstation app) and hub.html (the hub console).
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [react()],
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
