// The one place a transport turns (method name, raw args) into a validated contract call. Both adapters use
// it, so HTTP and IPC accept and refuse exactly the same calls with the same messages.
import { API_ARGS, type ApiMethod, type WorkbenchApi } from '../../shared/api.js';
import type { z } from 'zod';
import { ServiceError } from './errors.js';

export function isApiMethod(name: unknown): name is ApiMethod {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(API_ARGS, name);
}

/** Validates a call against the contract; throws not-found (unknown method) or bad-request (the zod reason). */
export function parseCall(method: unknown, args: unknown): { method: ApiMethod; args: unknown[] } {
  if (!isApiMethod(method))
    throw new ServiceError('not-found', `unknown API method ${JSON.stringify(String(method)).slice(0, 80)}`);
  const r = API_ARGS[method].safeParse(args ?? []);
  if (!r.success) {
    const reasons = r.error.issues.map(reason);
    throw new ServiceError('bad-request', `${method}: invalid arguments: ${reasons.join('; ')}`);
  }
  return { method, args: r.data as unknown[] };
}

/** Calls a validated method on the service. */
export function invoke(api: WorkbenchApi, call: { method: ApiMethod; args: unknown[] }): Promise<unknown> {
  // The tuple was validated against API_ARGS[method], the runtime twin of this method's parameter list.
  const fn = api[call.method] as (...a: unknown[]) => Promise<unknown>;
  return fn.apply(api, call.args);
}

/** `argument 0.limit: <zod's message>`. (shared/spec.ts formatIssues calls every type error "is required":
 * zod 4 leaves `input` out of issues unless asked, so it cannot tell missing from mistyped.) */
function reason(i: z.core.$ZodIssue): string {
  const where = i.path.length ? `argument ${i.path.map(String).join('.')}: ` : '';
  if (i.code === 'unrecognized_keys')
    return `${where}unknown field${i.keys.length > 1 ? 's' : ''}: ${i.keys.join(', ')}`;
  return where + i.message;
}
