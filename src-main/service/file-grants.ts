// Which files the service may import. A renderer must never name an arbitrary path on the machine: in web mode
// it can only refer to files it uploaded (by upload id), in Electron only to paths the user picked in the
// native dialog (the main process grants them). Everything else is refused.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ServiceError } from './errors.js';

export interface Upload {
  id: string;
  path: string;
  name: string;
  bytes: number;
}

export class FileGrants {
  private readonly uploads = new Map<string, Upload>();
  private readonly chosen = new Set<string>();

  /** A path the user chose in a native file dialog. */
  grantPath(path: string): void {
    this.chosen.add(resolve(path));
  }

  /** A file received by POST /upload (already on disk); returns its id. */
  addUpload(u: Omit<Upload, 'id'>): Upload {
    const upload = { ...u, id: `u-${randomBytes(12).toString('hex')}` };
    this.uploads.set(upload.id, upload);
    return upload;
  }

  /** The file an import request may read; throws a bad-request for anything not granted. */
  resolve(req: { path?: string; uploadId?: string }): { path: string; upload?: Upload } {
    if ((req.path === undefined) === (req.uploadId === undefined)) {
      throw new ServiceError(
        'bad-request',
        'an import needs exactly one of path (a file you chose) or uploadId (an uploaded file)',
      );
    }
    if (req.uploadId !== undefined) {
      const upload = this.uploads.get(req.uploadId);
      if (!upload)
        throw new ServiceError(
          'not-found',
          `no upload with id ${req.uploadId} (uploads last until the server stops; upload the file again)`,
        );
      return { path: upload.path, upload };
    }
    const path = resolve(req.path as string);
    if (!this.chosen.has(path))
      throw new ServiceError(
        'bad-request',
        `${req.path} was not chosen in the file dialog: only files you picked or uploaded can be imported`,
      );
    return { path };
  }

  /** Forget an upload and delete its temp file (after import, or on shutdown). */
  async release(uploadId: string): Promise<void> {
    const u = this.uploads.get(uploadId);
    if (!u) return;
    this.uploads.delete(uploadId);
    await rm(u.path, { force: true });
  }

  async releaseAll(): Promise<void> {
    await Promise.all([...this.uploads.keys()].map((id) => this.release(id)));
  }
}
