// App settings (Settings screen): a small JSON file beside the DB in the app's data dir, mode 0600 — it may
// hold a Redis password. The renderer only ever sees the redacted URL (shared/api.ts AppSettings).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AppSettings, SettingsPatch } from '../../shared/api.js';
import { parseRedisUrl, redactRedisUrl } from '../../workers/remote/redis-url.js';
import { ServiceError } from './errors.js';

export interface StoredSettings {
  redisUrl: string | null;
  useRemote: boolean;
}

const DEFAULTS: StoredSettings = { redisUrl: null, useRemote: false };

/** The settings file of a DB: `<db dir>/settings.json`. */
export function settingsPathFor(dbPath: string): string {
  return join(dirname(dbPath), 'settings.json');
}

export class SettingsFile {
  private cur: StoredSettings;

  constructor(readonly path: string) {
    this.cur = { ...DEFAULTS };
    try {
      const raw = JSON.parse(readFileSync(path, 'utf8')) as Partial<StoredSettings>;
      this.cur = {
        redisUrl: typeof raw.redisUrl === 'string' && raw.redisUrl ? raw.redisUrl : null,
        useRemote: raw.useRemote === true,
      };
    } catch {
      /* missing or unreadable: defaults */
    }
  }

  get value(): Readonly<StoredSettings> {
    return this.cur;
  }

  view(): AppSettings {
    const url = this.cur.redisUrl;
    return {
      redisUrl: url ? redactRedisUrl(url) : null,
      redisPasswordSet: !!url && hasPassword(url),
      useRemote: this.cur.useRemote,
    };
  }

  set(patch: SettingsPatch): AppSettings {
    const next = { ...this.cur };
    if (patch.redisUrl !== undefined) {
      const url = patch.redisUrl?.trim() || null;
      if (url === null) next.redisUrl = null;
      else if (this.cur.redisUrl && url === redactRedisUrl(this.cur.redisUrl)) {
        /* the redacted form came back unchanged: keep the stored password */
      } else {
        try {
          parseRedisUrl(url);
        } catch (e) {
          throw new ServiceError(
            'bad-request',
            `Redis URL: ${(e instanceof Error ? e.message : String(e)).replace(/^--redis( URL)? /, '')}`,
          );
        }
        if (/:\*\*\*@/.test(url))
          throw new ServiceError(
            'bad-request',
            'Redis URL: "***" is the hidden password of another URL; type the password again',
          );
        next.redisUrl = url;
      }
    }
    if (patch.useRemote !== undefined) next.useRemote = patch.useRemote;
    if (next.useRemote && !next.redisUrl)
      throw new ServiceError('bad-request', 'set a Redis URL before turning on remote workers');
    this.cur = next;
    this.save();
    return this.view();
  }

  private save(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.cur, null, 2) + '\n', { mode: 0o600 });
    renameSync(tmp, this.path);
  }
}

function hasPassword(url: string): boolean {
  try {
    return !!parseRedisUrl(url).password;
  } catch {
    return false;
  }
}
