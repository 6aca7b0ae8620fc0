import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultDbPath } from '../src-main/store/paths.js';

describe('default database path', () => {
  it('lives in the per-user data folder, named deepbern without a suffix', () => {
    const p = defaultDbPath({});
    expect(p.endsWith(join('deepbern', 'workbench.db'))).toBe(true);
    if (process.platform === 'linux' && !process.env.XDG_DATA_HOME)
      expect(p).toBe(join(homedir(), '.local', 'share', 'deepbern', 'workbench.db'));
  });

  it('DEEPBERN_DB overrides it (resolved to an absolute path)', () => {
    expect(defaultDbPath({ DEEPBERN_DB: 'rel/x.db' })).toBe(resolve('rel/x.db'));
    expect(defaultDbPath({ DEEPBERN_DB: '  ' })).toBe(defaultDbPath({}));
  });
});
