// Picks and initialises the tfjs backend once per thread (DESIGN §2.4). The native tfjs-node(-gpu) addons are
// optional and usually absent, so `auto` falls back to wasm (SIMD, no wasm threads) and finally to cpu, and
// records why each earlier candidate failed so the UI can say it.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import './gradients.js';

export const BACKEND_PREFS = ['auto', 'tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'] as const;
export type BackendPref = (typeof BACKEND_PREFS)[number];
type Concrete = Exclude<BackendPref, 'auto'>;

export interface BackendInfo {
  /** The candidate that loaded: 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu'. */
  name: Concrete;
  /** tfjs's own backend name (e.g. 'tensorflow', 'wasm', 'cpu'). */
  tfBackend: string;
  /** Earlier candidates that failed, with the reason. */
  tried: { name: Concrete; error: string }[];
}

const AUTO_ORDER: Concrete[] = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];

/** One promise per preference and thread: module state is per worker thread, which is exactly the scope we want. */
const cache = new Map<BackendPref, Promise<BackendInfo>>();
let flagsSet = false;

function envPref(): BackendPref {
  const raw = typeof process !== 'undefined' ? process.env.DEEPBERN_BACKEND : undefined;
  if (raw === undefined || raw === '') return 'auto';
  if ((BACKEND_PREFS as readonly string[]).includes(raw)) return raw as BackendPref;
  throw new Error(`DEEPBERN_BACKEND=${raw} is not one of ${BACKEND_PREFS.join(', ')}`);
}

function setFlagsOnce(): void {
  if (flagsSet) return;
  flagsSet = true;
  // Prod mode skips per-op debug checks; NaNs are caught by the trainer's loss check instead.
  tf.enableProdMode();
}

// A specifier held in a variable keeps TypeScript from resolving optional, uninstalled packages.
async function importOptional(specifier: string): Promise<unknown> {
  return import(specifier);
}

/** What each optional native package is for, in the one line a user sees when it is absent. */
const NATIVE_PURPOSE: Record<'tfjs-node-gpu' | 'tfjs-node', string> = {
  'tfjs-node-gpu': 'optional, for NVIDIA GPUs on Linux/Windows x64 with CUDA 11.2 + cuDNN 8.1; see the README',
  'tfjs-node': 'optional native CPU backend',
};

/** One clear line for a native package that failed: not installed, or installed but its addon did not load. */
export function nativeLoadError(name: 'tfjs-node-gpu' | 'tfjs-node', e: unknown): Error {
  const pkg = `@tensorflow/${name}`;
  const code = (e as { code?: unknown } | null)?.code;
  const first = message(e);
  if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && first.includes(pkg)) {
    return new Error(`${pkg} is not installed (${NATIVE_PURPOSE[name]})`);
  }
  return new Error(`${pkg} is installed but did not load: ${first}`);
}

async function tryLoad(name: Concrete): Promise<string> {
  switch (name) {
    case 'tfjs-node-gpu':
    case 'tfjs-node': {
      try {
        await importOptional(`@tensorflow/${name}`);
      } catch (e) {
        throw nativeLoadError(name, e);
      }
      if (!(await tf.setBackend('tensorflow'))) throw new Error('the tensorflow backend did not initialise');
      return 'tensorflow';
    }
    case 'wasm': {
      await import('@tensorflow/tfjs-backend-wasm');
      // Node cannot run the threaded wasm build (tfjs #3830) and one run per core is our parallelism anyway.
      // SIMD stays on: its flag is auto-detected and true on every Node we support.
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not initialise');
      return 'wasm';
    }
    case 'cpu': {
      if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend did not initialise');
      return 'cpu';
    }
  }
}

function message(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0];
}

async function init(pref: BackendPref): Promise<BackendInfo> {
  setFlagsOnce();
  const candidates = pref === 'auto' ? AUTO_ORDER : [pref];
  const tried: BackendInfo['tried'] = [];
  for (const name of candidates) {
    try {
      const tfBackend = await tryLoad(name);
      await tf.ready();
      return { name, tfBackend, tried };
    } catch (e) {
      tried.push({ name, error: message(e) });
    }
  }
  if (pref === 'auto')
    throw new Error(`no tfjs backend could load: ${tried.map((t) => `${t.name}: ${t.error}`).join('; ')}`);
  throw new Error(`backend ${pref} could not load: ${tried[0]?.error ?? 'unknown error'}`);
}

/** Initialise the tfjs backend for this thread. Idempotent: the same preference returns the same result. */
export function initBackend(pref: BackendPref = envPref()): Promise<BackendInfo> {
  if (!(BACKEND_PREFS as readonly string[]).includes(pref)) {
    return Promise.reject(new Error(`backend must be one of ${BACKEND_PREFS.join(', ')} (got ${String(pref)})`));
  }
  let p = cache.get(pref);
  if (!p) {
    p = init(pref);
    // A failed attempt must not poison later calls with a different environment.
    p.catch(() => cache.delete(pref));
    cache.set(pref, p);
    return p;
  }
  // Another preference may have switched the backend since; put this one back.
  return p.then(async (info) => {
    if (tf.getBackend() !== info.tfBackend) await tf.setBackend(info.tfBackend);
    return info;
  });
}
