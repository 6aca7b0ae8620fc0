// Where the workbench database lives by default: the per-user data folder (env-paths "deepbern", no
// "-nodejs" suffix), e.g. ~/.local/share/deepbern/workbench.db on Linux. DEEPBERN_DB overrides it.
import { resolve, join } from 'node:path';
import envPaths from 'env-paths';

export const DB_FILE_NAME = 'workbench.db';

export function defaultDataDir(): string {
  return envPaths('deepbern', { suffix: '' }).data;
}

export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.DEEPBERN_DB?.trim();
  return override ? resolve(override) : join(defaultDataDir(), DB_FILE_NAME);
}
