// Two pages, built into dist/: graphiql.html (served at GET /graphql) and
// docs.html (GET /docs). Every asset lands in dist/assets/ under a hashed
// name and is referenced as /assets/<name>, the path the server serves it at.
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    // The pages are read by Rust, not by a CDN: no source maps to ship.
    sourcemap: false,
    // Workers are ES modules; the CSP allows them from 'self'.
    rollupOptions: {
      input: {
        graphiql: resolve(import.meta.dirname, 'graphiql.html'),
        docs: resolve(import.meta.dirname, 'docs.html'),
      },
    },
    chunkSizeWarningLimit: 8192,
  },
  worker: { format: 'es' },
});
