import path from 'node:path';
import { defineConfig } from 'vite';

export default defineConfig({
  root: __dirname,
  base: '/ui/',
  build: {
    outDir: path.resolve(__dirname, '../dist/console'),
    emptyOutDir: true,
    target: 'es2022',
    assetsDir: 'assets',
  },
});
