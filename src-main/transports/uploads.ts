// Web-mode dataset uploads: the raw request body streams into a temp file (never into memory), capped at a
// limit; the caller registers the file as an upload grant.
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { randomBytes } from 'node:crypto';
import { basename, join } from 'node:path';

export class TooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the upload is larger than the limit of ${formatBytes(limit)}`);
    this.name = 'TooLarge';
  }
}

export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${+(n / 2 ** 30).toFixed(1)} GiB`;
  if (n >= 2 ** 20) return `${+(n / 2 ** 20).toFixed(1)} MiB`;
  return `${n} bytes`;
}

/** A file name safe to keep as a suffix (the importer looks at `.gz`); only the last path part survives. */
export function safeFileName(name: string | null): string {
  const base = basename((name ?? '').replace(/\\/g, '/'))
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .slice(-120);
  return base.replace(/^\.+/, '') || 'upload';
}

/** Streams the body to `dir`; rejects with TooLarge (file removed) past `limit` bytes. */
export async function receiveUpload(
  req: IncomingMessage,
  dir: string,
  name: string,
  limit: number,
): Promise<{ path: string; bytes: number }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${randomBytes(8).toString('hex')}-${name}`);
  const out = createWriteStream(path, { mode: 0o600 });
  let bytes = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      req.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > limit) {
          req.unpipe(out);
          reject(new TooLarge(limit));
        }
      });
      req.on('error', reject);
      req.on('aborted', () => reject(new Error('the upload was aborted')));
      out.on('error', reject);
      out.on('finish', resolve);
      req.pipe(out);
    });
    return { path, bytes };
  } catch (e) {
    out.destroy();
    await rm(path, { force: true });
    throw e;
  }
}
