// The REST reference: Scalar, bundled from npm, rendering the server's own
// /openapi.json, with nothing loaded from or sent to another origin.
import '@scalar/api-reference/style.css';

// Scalar validates its configuration and documents with zod, and zod probes
// `new Function('')` once, when its first object schema is built, to decide
// whether it may compile faster validators. The page's CSP has no
// 'unsafe-eval', so the probe would throw (caught, harmless) yet still be
// reported as a CSP violation. zod (4.x) reads its global configuration from
// `globalThis.__zod_globalConfig`; with `jitless` set there it skips the
// probe. That must happen before any zod schema exists, i.e. before Scalar's
// modules are evaluated, hence the dynamic import below: static imports would
// be evaluated before this module's own code.
globalThis.__zod_globalConfig = Object.assign(globalThis.__zod_globalConfig ?? {}, { jitless: true });

const { createApiReference } = await import('@scalar/api-reference');

createApiReference('#app', {
  url: '/openapi.json',
  // The default fonts come from fonts.scalar.com: system fonts instead.
  withDefaultFonts: false,
  // No request proxy (proxy.scalar.com is the usual one): "Test Request"
  // calls this server directly, same origin.
  proxyUrl: undefined,
  // A bearer token typed into "Authentication" stays in memory (the
  // default, said here because tokens are secrets).
  persistAuth: false,
  // No analytics (only an opt-in plugin would send any; off regardless).
  telemetry: false,
  // "Ask AI" (Agent Scalar, api.scalar.com) is on by default on localhost
  // or with a key: off.
  agent: { disabled: true },
  // The "Generate MCP" menu (shown on localhost) uploads the document to
  // Scalar's services: off.
  mcp: { disabled: true },
  // The developer toolbar (shown on localhost by default) offers to share or
  // publish the document through Scalar's registry: never.
  showDeveloperTools: 'never',
  // The stand-alone API client button (its workspace features are Scalar
  // Cloud's); each operation's "Test Request" stays.
  hideClientButton: true,
});
