// Two pages, built into dist/:
//   dist/graphiql.html  served at GET /graphql
//   dist/docs.html      served at GET /docs
// and every script, style sheet, font and worker in dist/assets/ under a
// content-hashed name, referenced as /assets/<name> (the path the server
// serves dist/assets/ at, cacheable for good).
//
// `base: '/'` with `assetsDir: 'assets'` is what puts the files in
// dist/assets/ *and* makes every URL in the pages absolute under /assets/
// (`base: '/assets/'` would make them /assets/assets/<name>). Absolute URLs
// also keep the pages working at any page path (/graphql, /docs).
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

const here = import.meta.dirname;

export default defineConfig({
  base: '/',
  // Nothing is copied unhashed into dist/: every file under /assets/ must be
  // safe to cache for good.
  publicDir: false,
  // JSX in src/graphiql.jsx, compiled by Vite's own Oxc transform (no React
  // plugin needed for a prebuilt page).
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    // Fonts (Monaco's codicon.ttf) stay files rather than data: URLs.
    assetsInlineLimit: 0,
    // The files are served by Gatehouse, not debugged from it.
    sourcemap: false,
    // Monaco and Scalar are large; the pages load once and are cached.
    chunkSizeWarningLimit: 8192,
    rolldownOptions: {
      input: {
        graphiql: resolve(here, 'graphiql.html'),
        docs: resolve(here, 'docs.html'),
      },
      onLog(level, log, handler) {
        // "use client" / "use no memo" are for React server components and
        // React Compiler; meaningless in a browser-only bundle.
        if (log.code === 'MODULE_LEVEL_DIRECTIVE') return;
        handler(level, log);
      },
    },
  },
  // Monaco's workers (graphiql/setup-workers/vite) as ES-module workers,
  // loaded from /assets/ (CSP worker-src 'self').
  worker: { format: 'es' },
});
