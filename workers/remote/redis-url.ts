// `redis://[user:]password@host:port/db` and `rediss://…` (TLS) → connection options; and a form that is
// safe to print (the password never reaches a log line or an error message).

export interface RedisTarget {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  /** Present for rediss://: node:tls connect options (servername for SNI and certificate checks). */
  tls?: { servername?: string; rejectUnauthorized?: boolean };
}

export class RedisUrlError extends Error {
  override name = 'UserError'; // the CLI prints it as one line and exits 2
}

export function parseRedisUrl(url: string): RedisTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new RedisUrlError(`--redis must be a URL like redis://:password@host:6379 (got "${redactRedisUrl(url)}")`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new RedisUrlError(`--redis must start with redis:// or rediss:// (TLS), got "${u.protocol}//"`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1'); // [::1] → ::1
  if (!host) throw new RedisUrlError('--redis URL has no host');
  const port = u.port ? Number(u.port) : 6379;
  const dbText = u.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0)
    throw new RedisUrlError(`--redis URL database must be a number, got "${dbText}"`);
  const target: RedisTarget = { host, port, db };
  if (u.username) target.username = decodeURIComponent(u.username);
  if (u.password) target.password = decodeURIComponent(u.password);
  if (u.protocol === 'rediss:') {
    // An IP has no SNI name; certificates are checked unless the URL says ?tls_insecure=1 (self-signed test setups).
    target.tls = {
      servername: /^[\d.:]+$/.test(host) ? undefined : host,
      rejectUnauthorized: u.searchParams.get('tls_insecure') !== '1',
    };
  }
  return target;
}

/** The URL with its password replaced by `***`. */
export function redactRedisUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/)([^@/]*)@/i, (_m, scheme: string, cred: string) => {
    const i = cred.indexOf(':');
    return `${scheme}${i < 0 ? '***' : `${cred.slice(0, i)}:***`}@`;
  });
}

export function describeTarget(t: RedisTarget): string {
  return `${t.tls ? 'rediss' : 'redis'}://${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}${t.db ? `/${t.db}` : ''}`;
}
