import { describe, expect, it } from 'vitest';
import { WorkbenchClient, ApiError, takeToken, cleanBridgeMessage } from '../src-renderer/api/client.js';

function env(search: string, fetchImpl: typeof fetch) {
  const store = new Map<string, string>();
  const replaced: string[] = [];
  return {
    replaced,
    store,
    env: {
      location: { search, pathname: '/', hash: '#/runs', host: '127.0.0.1:1', protocol: 'http:' },
      history: { replaceState: (_d: unknown, _u: string, url?: string) => void replaced.push(url ?? '') },
      sessionStorage: {
        getItem: (k: string) => store.get(k) ?? null,
        setItem: (k: string, v: string) => void store.set(k, v),
      },
      fetch: fetchImpl,
      setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
    },
  };
}

describe('API client', () => {
  it('takes the token from the URL, keeps it in sessionStorage and strips it from the address bar', () => {
    const e = env('?token=abc&x=1', (() => Promise.reject(new Error('x'))) as never);
    expect(takeToken(e.env)).toBe('abc');
    expect(e.replaced).toEqual(['/?x=1#/runs']);
    const again = { ...e.env, location: { ...e.env.location, search: '' } };
    expect(takeToken(again)).toBe('abc');
  });

  it('POSTs /api/<method> with the bearer token and surfaces the server message', async () => {
    const seen: { url: string; init: RequestInit }[] = [];
    const fetchImpl = (async (url: string, init: RequestInit) => {
      seen.push({ url, init });
      if (url.endsWith('runs.get'))
        return new Response(JSON.stringify({ error: 'run r9 not found', kind: 'not-found' }), { status: 404 });
      return new Response(JSON.stringify({ result: { rows: [], total: 0 } }), { status: 200 });
    }) as unknown as typeof fetch;
    const c = new WorkbenchClient(env('?token=t0k', fetchImpl).env);
    expect(c.transport).toBe('web');
    await expect(c.call('runs.list', { limit: 5 })).resolves.toEqual({ rows: [], total: 0 });
    expect(seen[0].url).toBe('/api/runs.list');
    expect((seen[0].init.headers as Record<string, string>).authorization).toBe('Bearer t0k');
    expect(JSON.parse(String(seen[0].init.body))).toEqual({ args: [{ limit: 5 }] });
    const err = await c.call('runs.get', 'r9').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).message).toBe('run r9 not found');
    expect((err as ApiError).kind).toBe('not-found');
  });

  it('prefers the Electron bridge and cleans its error wrapping', async () => {
    const bridge = {
      'runs.get': async () => {
        throw new Error("Error invoking remote method 'deepbern:call': Error: run x not found");
      },
      'system.info': async () => ({ version: '1' }),
      onEvent: () => undefined,
      pickFile: async () => '/data/HIGGS.csv.gz',
    };
    const c = new WorkbenchClient({
      ...env('', (() => Promise.reject(new Error('no'))) as never).env,
      bridge: bridge as never,
    });
    expect(c.transport).toBe('electron');
    await expect(c.call('system.info')).resolves.toEqual({ version: '1' });
    await expect(c.call('runs.get', 'x')).rejects.toThrow(/^run x not found$/);
    await expect(c.pickFile()).resolves.toBe('/data/HIGGS.csv.gz');
    expect(cleanBridgeMessage('Error: boom')).toBe('boom');
  });
});
