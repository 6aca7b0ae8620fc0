// The address: every screen is `#/<view>?key=value&…` with the state worth bookmarking (the Paper screen's
// sweep, the Runs table's filters, the Approximation lab's selection, the Settings tab…). Moving between screens
// and choosing something a user would step back from (a sweep, a lab, a tab) adds a history entry, so the
// browser's back/forward walk through them; typing and sliders only replace the current entry.
import { ref, watch, type Ref } from 'vue';

export type View = 'designer' | 'datasets' | 'sweeps' | 'runs' | 'compare' | 'paper' | 'approx' | 'settings';
export const VIEWS: View[] = ['designer', 'datasets', 'sweeps', 'runs', 'compare', 'paper', 'approx', 'settings'];

export interface Route {
  view: View;
  params: Record<string, string>;
}

/** `#/paper?sweep=abc` → { view: 'paper', params: { sweep: 'abc' } }; an unknown view is the designer. */
export function parseRoute(hash: string): Route {
  const m = /^#?\/?([^/?]*)[^?]*(?:\?(.*))?$/.exec(hash) ?? [];
  const view = (VIEWS as string[]).includes(m[1] ?? '') ? (m[1] as View) : 'designer';
  const params: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(m[2] ?? '')) if (v !== '') params[k] = v;
  return { view, params };
}

/** The address of a route: keys in the order given, commas left readable. */
export function routeHash(r: Route): string {
  const q = new URLSearchParams();
  for (const k of Object.keys(r.params)) if (r.params[k] !== '') q.set(k, r.params[k]!);
  const s = q.toString().replace(/%2C/g, ',');
  return `#/${r.view}${s ? `?${s}` : ''}`;
}

const hasWindow = typeof window !== 'undefined';
const here = () => (hasWindow ? location.hash : '');

export const route = ref<Route>(parseRoute(here()));
export const view = ref<View>(route.value.view);

/** What each screen puts in the address when one arrives at it (registered by the screen). */
const providers = new Map<View, () => Record<string, string>>();
/** A screen with its own address format (Compare) says what its address is when one arrives at it. */
export function provideRoute(v: View, params: () => Record<string, string>): void {
  providers.set(v, params);
}
/** Screens' reactions to an address change while they are shown (back/forward, a pasted link). */
const listeners = new Set<(r: Route) => void>();

function write(r: Route, push: boolean): void {
  const h = routeHash(r);
  if (hasWindow && h !== location.hash) (push ? history.pushState : history.replaceState).call(history, null, '', h);
  route.value = r;
  view.value = r.view;
}

/** Go to a screen (a new history entry), with the state it had when last shown, or the given params. */
export function go(v: View, params?: Record<string, string>): void {
  if (v === view.value && !params) return;
  write({ view: v, params: params ?? providers.get(v)?.() ?? {} }, true);
}

/** Change the current screen's address; `push` for a choice the user may want to step back from. */
export function setParams(v: View, params: Record<string, string>, push = false): void {
  if (view.value !== v) return;
  const next = { view: v, params: Object.fromEntries(Object.entries(params).filter(([, x]) => x !== '')) };
  if (routeHash(next) === routeHash(route.value)) return;
  write(next, push);
}

if (hasWindow) {
  const onAddress = () => {
    const r = parseRoute(location.hash);
    if (routeHash(r) === routeHash(route.value) && r.view === view.value) return;
    route.value = r;
    view.value = r.view;
    for (const l of listeners) l(r);
  };
  window.addEventListener('popstate', onAddress);
  window.addEventListener('hashchange', onAddress);
}

export interface RouteField<T> {
  /** The ref the field mirrors. */
  ref: Ref<T>;
  /** Address text → value (undefined: not in the address, or unreadable → `fallback`). */
  read(s: string | undefined): T | undefined;
  /** Value → address text ('' leaves the key out). */
  write(v: T): string;
  /** The value when the address does not have the key (on back/forward to such an entry). */
  fallback: T;
  /**
   * Changes add a history entry (a tab) rather than replace the current one (a search box); 'change': only a
   * change from one value to another does (a sweep the screen picked by itself is no step to go back to).
   */
  push?: boolean | 'change';
}

/**
 * Binds refs of screen `v` to keys of its address: the address opens the screen with that state, the state
 * writes the address while the screen is shown, back/forward restore it, and arriving at the screen from the
 * navigation brings its last state back. Call once from the screen's setup (screens are kept alive).
 */
export function bindRoute(v: View, fields: Record<string, RouteField<unknown>>): void {
  const entries = Object.entries(fields);
  const current = () => Object.fromEntries(entries.map(([k, f]) => [k, f.write(f.ref.value)]));
  const apply = (r: Route, onlyPresent: boolean) => {
    for (const [k, f] of entries) {
      const val = f.read(r.params[k]);
      if (val !== undefined) f.ref.value = val;
      else if (!onlyPresent) f.ref.value = f.fallback;
    }
  };
  // Opened from an address (a bookmark, a reload): take the state it carries.
  if (route.value.view === v) apply(route.value, true);
  providers.set(v, current);
  listeners.add((r) => r.view === v && apply(r, false));
  watch(
    current,
    (now, before) => {
      if (view.value !== v) return;
      const pushed = entries.some(([k, f]) => f.push && now[k] !== before?.[k] && (f.push === true || !!before?.[k]));
      setParams(v, { ...route.value.params, ...now }, pushed);
    },
    { deep: true },
  );
  // Shown again from the navigation with a bare address: the screen's own state goes back into it.
  watch(view, (nv) => {
    if (nv === v) setParams(v, { ...current(), ...route.value.params });
  });
}

/** Codecs for the usual field types. */
export const codec = {
  str: (fallback = ''): Omit<RouteField<string>, 'ref'> => ({
    read: (s) => s,
    write: (v) => (v === fallback ? '' : v),
    fallback,
  }),
  list: (): Omit<RouteField<string[]>, 'ref'> => ({
    read: (s) => (s === undefined ? undefined : s.split(',').filter(Boolean)),
    write: (v) => v.join(','),
    fallback: [],
  }),
  bool: (fallback = false): Omit<RouteField<boolean>, 'ref'> => ({
    read: (s) => (s === undefined ? undefined : s === '1'),
    write: (v) => (v === fallback ? '' : v ? '1' : '0'),
    fallback,
  }),
  oneOf: <T extends string>(values: readonly T[], fallback: T): Omit<RouteField<T>, 'ref'> => ({
    read: (s) => (values.includes(s as T) ? (s as T) : undefined),
    write: (v) => (v === fallback ? '' : v),
    fallback,
  }),
  num: (fallback: number): Omit<RouteField<number>, 'ref'> => ({
    read: (s) => (s !== undefined && Number.isFinite(Number(s)) ? Number(s) : undefined),
    write: (v) => (v === fallback ? '' : String(v)),
    fallback,
  }),
};

/** A field: a ref plus its codec (push: a change adds a history entry; see RouteField.push). */
export function field<T>(r: Ref<T>, c: Omit<RouteField<T>, 'ref'>, push: boolean | 'change' = false): RouteField<T> {
  return { ...c, ref: r, push };
}
