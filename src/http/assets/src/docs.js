// The REST reference, rendered by Scalar from the server's /openapi.json,
// with nothing loaded from another origin.
import '@scalar/api-reference/style.css';
import { createApiReference } from '@scalar/api-reference';

createApiReference('#app', {
  url: '/openapi.json',
  // Scalar's default fonts come from fonts.scalar.com; system fonts instead.
  withDefaultFonts: false,
  hideClientButton: true,
  mcp: { disabled: true },
  telemetry: false,
});
