// The renderer's Content-Security-Policy, one list for every place it is stated: the Electron scheme's header
// (app://deepbern), web mode's header (which adds its WebSocket origin) and the page's own <meta>, generated
// from this at build time. Vue and the chart libraries set inline styles; no inline script ever.
// No imports: vite.config.ts loads this file too.
function directives(connectSrc: readonly string[]): string[] {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src ${connectSrc.join(' ')}`,
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
  ];
}

export function rendererCsp(connectSrc: readonly string[] = ["'self'"]): string {
  return directives(connectSrc).join('; ');
}

/**
 * The <meta> form: the same policy without frame-ancestors (ignored, with a warning, in a meta tag; the
 * headers carry it). connect-src 'self' also matches the page's own ws:// origin (CSP Level 3), which is all
 * web mode's WebSocket needs, so one meta serves both shells.
 */
export function rendererMetaCsp(): string {
  return directives(["'self'"])
    .filter((d) => !d.startsWith('frame-ancestors'))
    .join('; ');
}
