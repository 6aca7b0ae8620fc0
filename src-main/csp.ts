// The renderer's Content-Security-Policy, one list for both shells: the Electron window (file://) and web mode
// (which also needs its WebSocket origin). Vue and the chart libraries set inline styles; no inline script ever.
export function rendererCsp(connectSrc: readonly string[] = ["'self'"]): string {
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
  ].join('; ');
}
