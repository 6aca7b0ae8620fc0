// One mapping from the errors the domain throws to the contract's ApiErrorBody, shared by both transports so
// the user sees the same message and kind over HTTP and over Electron IPC.
import type { ApiErrorBody } from '../../shared/api.js';
import { SpecError } from '../../shared/spec.js';
import { SweepError } from '../../shared/sweep.js';
import { StoreError, type StoreErrorCode } from '../store/errors.js';

export type ApiErrorKind = ApiErrorBody['kind'];

/** An error the service raises itself, already carrying its kind. */
export class ServiceError extends Error {
  constructor(
    readonly kind: ApiErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

const STORE_KINDS: Partial<Record<StoreErrorCode, ApiErrorKind>> = {
  not_found: 'not-found',
  conflict: 'conflict',
  invalid: 'bad-request',
  read_only: 'conflict',
  owned: 'conflict',
};

// Matched by name too: DatasetError and ModelFileError live in workers/ and may come from another realm.
const BAD_REQUEST_NAMES = new Set(['SpecError', 'SweepError', 'DatasetError', 'ModelFileError', 'StateError']);

export function toApiError(e: unknown): ApiErrorBody {
  if (e instanceof ServiceError) return { error: e.message, kind: e.kind };
  if (e instanceof StoreError) return { error: e.message, kind: STORE_KINDS[e.code] ?? 'internal' };
  if (e instanceof SpecError || e instanceof SweepError) return { error: e.message, kind: 'bad-request' };
  if (e instanceof Error && BAD_REQUEST_NAMES.has(e.name)) return { error: e.message, kind: 'bad-request' };
  const msg = e instanceof Error ? e.message : String(e);
  return { error: `internal error: ${msg}`, kind: 'internal' };
}

/** The HTTP status for each kind. */
export const HTTP_STATUS: Record<ApiErrorKind, number> = {
  'bad-request': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  internal: 500,
};
