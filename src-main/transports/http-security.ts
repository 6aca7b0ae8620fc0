// The web transport's gatekeeping, kept apart from routing so each rule is easy to read and test: the
// session token (constant-time compare), Host/Origin checks (no cross-site calls, no DNS rebinding) and the
// headers every response carries.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TOKEN_PARAM } from '../../shared/protocol.js';
import { rendererCsp } from '../csp.js';

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Equal-length digests make the comparison's time independent of where the strings differ (and of length). */
export function tokenMatches(given: string | null | undefined, expected: string): boolean {
  if (typeof given !== 'string' || given.length === 0 || given.length > 1024) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The cookie name carries the port: cookies are not port-scoped, and two servers may run side by side. */
export function cookieName(port: number): string {
  return `deepbern_token_${port}`;
}

/**
 * The token a request presents: `Authorization: Bearer` or `?token=`; and, only where `cookie` is allowed (the
 * page's own static files), the session cookie set with the page. API calls, uploads and the event socket
 * never ride on a cookie, so a cross-site request cannot borrow it (SameSite and the Origin check aside).
 */
export function presentedToken(req: IncomingMessage, url: URL, port: number, cookie = false): string | null {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  const q = url.searchParams.get(TOKEN_PARAM);
  if (q) return q;
  if (!cookie) return null;
  const name = cookieName(port);
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return null;
}

export function sessionCookie(port: number, token: string): string {
  // HttpOnly: page scripts never need it (the client keeps its own copy); Strict: never sent cross-site.
  return `${cookieName(port)}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`;
}

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/**
 * Why a request must be refused with 403, or null. A browser page on another site can reach 127.0.0.1 too:
 * its requests carry its own Origin (refused), and a rebinding DNS name shows up in Host (refused when we
 * listen on loopback only).
 */
export function foreignRequest(
  req: IncomingMessage,
  opts: { port: number; loopbackOnly: boolean; extraOrigins?: readonly string[] },
): string | null {
  const host = req.headers.host ?? '';
  // A dev server proxying to us (vite, DEEPBERN_URL) forwards its own Host: allowed when its origin is.
  const viaAllowedOrigin = opts.extraOrigins?.some((o) => o === `http://${host}`) ?? false;
  if (opts.loopbackOnly && !viaAllowedOrigin) {
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host);
    if (!m || !LOOPBACK_NAMES.has(m[1]!.toLowerCase()) || Number(m[2] ?? 80) !== opts.port)
      return `foreign Host header "${host.slice(0, 100)}"`;
  }
  const origin = req.headers.origin;
  if (origin === undefined) return null; // same-origin GETs and non-browser clients send none
  if (origin === `http://${host}` || opts.extraOrigins?.includes(origin)) return null;
  return `foreign Origin "${origin.slice(0, 100)}"`;
}

export function contentSecurityPolicy(host: string): string {
  return rendererCsp(["'self'", `ws://${host}`]);
}

export function setSecurityHeaders(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Content-Security-Policy', contentSecurityPolicy(req.headers.host ?? '127.0.0.1'));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}
