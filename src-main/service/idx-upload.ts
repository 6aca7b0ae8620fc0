// Web mode's IDX import: the four uploaded MNIST-style files (any order, optionally .gz) → one temp folder with
// the standard names readMnistDir expects. Electron picks the folder itself and skips this.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ServiceError } from './errors.js';
import type { Upload } from './file-grants.js';

export const IDX_FILES = [
  'train-images-idx3-ubyte',
  'train-labels-idx1-ubyte',
  't10k-images-idx3-ubyte',
  't10k-labels-idx1-ubyte',
] as const;

/** Which of the four an uploaded file is, by its name (`train-images.idx3-ubyte.gz`, `t10k-labels-idx1-ubyte`…). */
export function idxRole(name: string): (typeof IDX_FILES)[number] | null {
  const n = name.toLowerCase();
  const split = /(^|[^a-z])(train)/.test(n) ? 'train' : /t10k|test/.test(n) ? 't10k' : null;
  const what = /images?/.test(n) ? 'images' : /labels?/.test(n) ? 'labels' : null;
  if (!split || !what) return null;
  return `${split}-${what}-${what === 'images' ? 'idx3' : 'idx1'}-ubyte` as (typeof IDX_FILES)[number];
}

export async function assembleIdxDir(uploads: Upload[]): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const roles = new Map<string, Upload>();
  for (const u of uploads) {
    const role = idxRole(u.name);
    if (!role)
      throw new ServiceError(
        'bad-request',
        `${u.name}: not an MNIST-style IDX file name (expected train/t10k images/labels, e.g. train-images-idx3-ubyte.gz)`,
      );
    if (roles.has(role))
      throw new ServiceError('bad-request', `${u.name} and ${roles.get(role)!.name} are both ${role}`);
    roles.set(role, u);
  }
  const missing = IDX_FILES.filter((f) => !roles.has(f));
  if (missing.length)
    throw new ServiceError('bad-request', `an IDX import needs the four files; missing ${missing.join(', ')}`);
  // The pid in the name lets start-up cleanup (stale-files.ts) remove it if this process dies first.
  const dir = await mkdtemp(join(tmpdir(), `deepbern-idx-${process.pid}-`));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    for (const [role, u] of roles) {
      const raw = await readFile(u.path);
      const gz = raw.length > 2 && raw[0] === 0x1f && raw[1] === 0x8b;
      let bytes: Buffer;
      try {
        bytes = gz ? gunzipSync(raw) : raw;
      } catch (e) {
        throw new ServiceError(
          'bad-request',
          `${u.name}: not a valid gzip file (${e instanceof Error ? e.message : String(e)})`,
        );
      }
      await writeFile(join(dir, role), bytes);
    }
  } catch (e) {
    await cleanup();
    throw e;
  }
  return { dir, cleanup };
}
