// The front-end lock beside the DB (one app / serve per database): taken, refused while its holder lives
// (naming it), taken over from a holder that is gone, released.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireFrontEndLock, DbLockedError, lockPathFor } from '../src-main/store/db-lock.js';
import { BIN, cliAsync, tempDir } from './support/cli.js';

const tmp = tempDir('deepbern-lock-');
afterAll(() => tmp.cleanup());

describe('front-end DB lock', () => {
  it('is exclusive while its holder lives, names the holder, and is released', async () => {
    const db = join(tmp.dir, 'a', 'workbench.db');
    const sleeper = spawn('sleep', ['30']);
    const lock = await acquireFrontEndLock(db, { command: 'the desktop app' });
    expect(existsSync(lockPathFor(db))).toBe(true);
    await lock.release();
    expect(existsSync(lockPathFor(db))).toBe(false);
    // Another live process holds it.
    writeFileSync(
      lockPathFor(db),
      JSON.stringify({ pid: sleeper.pid, host: hostname(), command: 'the desktop app', startedAt: Date.now() }),
    );
    const err = await acquireFrontEndLock(db, { command: 'deepbern serve' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DbLockedError);
    expect((err as Error).message).toMatch(
      new RegExp(`open in the desktop app \\(pid ${sleeper.pid} on ${hostname()}\\)`),
    );
    sleeper.kill('SIGKILL');
    await new Promise((r) => sleeper.once('exit', r));
    // …and once it is gone, the lock is taken over.
    const again = await acquireFrontEndLock(db, { command: 'deepbern serve' });
    await again.release();
  });

  it('a holder on another host counts as alive while it touches the lock, stale after a minute', async () => {
    const db = join(tmp.dir, 'remote.db');
    writeFileSync(
      lockPathFor(db),
      JSON.stringify({ pid: 1, host: 'elsewhere.example', command: 'deepbern serve', startedAt: 0 }),
    );
    await expect(acquireFrontEndLock(db, { command: 'x' })).rejects.toThrow(/pid 1 on elsewhere\.example/);
    const old = new Date(Date.now() - 120_000);
    utimesSync(lockPathFor(db), old, old);
    const lock = await acquireFrontEndLock(db, { command: 'x' });
    await lock.release();
  });

  it('a second `serve` on one DB exits 4 naming the first', async () => {
    const db = join(tmp.dir, 'served.db');
    const first = cliAsync(['serve', '--no-open', '--port', '0', '--workers', '1', '--db', db]);
    let out = '';
    first.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const t0 = Date.now();
    while (!out.includes('http') && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 50));
    try {
      const second = spawnSync(process.execPath, [BIN, 'serve', '--no-open', '--port', '0', '--db', db], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(second.status, second.stderr).toBe(4);
      expect(second.stderr).toMatch(new RegExp(`is open in deepbern serve \\(pid ${first.child.pid} on `));
    } finally {
      first.child.kill('SIGTERM');
      await first.done;
    }
    expect(existsSync(lockPathFor(db))).toBe(false); // released on a clean stop
  }, 120_000);
});
