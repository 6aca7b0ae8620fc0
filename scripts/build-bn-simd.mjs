// Compiles workers/engine/kernels/bn-simd.wat (hand-written, the source) with wabt into
// workers/engine/kernels/bn-simd.generated.ts (base64), so builds and CI need no wasm toolchain. Appended to the
// module: degree-unrolled copies of bern_fwd / bern_bwd for n = 1 … UNROLLED_MAX (bern_fwd_n, bern_bwd_n: same
// arguments and slots, the coefficient vectors and the n + 1 sums in locals, no inner loop), generated here.
// Run after changing the .wat: `node scripts/build-bn-simd.mjs` (test/kernels-simd.test.ts checks it is current).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import wabtInit from 'wabt';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'workers', 'engine', 'kernels');

export const UNROLLED_MAX = 16;

const g = (v) => `(local.get $${v})`;
const set = (v, e) => `(local.set $${v} ${e})`;
const mul = (a, b) => `(f32x4.mul ${a} ${b})`;
const add = (a, b) => `(f32x4.add ${a} ${b})`;
const sub = (a, b) => `(f32x4.sub ${a} ${b})`;
const slot = (k) => `(v128.load offset=${16 * k} (local.get $p))`;
const locals = (names) => names.map((v) => `(local $${v} v128)`).join(' ');
const range = (n) => [...Array(n).keys()];

/** t = clamp((x − l)·inv, 0, 1) and s = 1 − t (x from the local $x). */
function tAndS() {
  return [
    set('t', `(f32x4.min (f32x4.max ${mul(sub(g('x'), g('l')), g('inv'))} ${g('zero')}) ${g('one')})`),
    set('s', sub(g('one'), g('t'))),
  ].join('\n        ');
}

const common = ['mu', 'sc', 'ga', 'be', 'l', 'inv', 'u'];
const loadCommon = () => common.map((v, i) => set(v, slot(i))).join('\n    ');
const rowLoop = (body, ptrs) => `(block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $B)))
        ${body}
        ${ptrs.map((q) => `(local.set $${q} (i32.add (local.get $${q}) (local.get $stride)))`).join('\n        ')}
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))`;

function unrolledForward(n) {
  const cs = range(n + 1).map((k) => `c${k}`);
  const steps = range(n).map((i) => {
    const k = i + 1;
    return [
      set('tp', k === 1 ? g('t') : mul(g('tp'), g('t'))),
      set('acc', add(mul(g('acc'), g('s')), mul(g(`c${k}`), g('tp')))),
    ].join('\n        ');
  });
  return `(func (export "bern_fwd_${n}") (param $src i32) (param $y i32) (param $B i32) (param $stride i32) (param $p i32) (param $n i32)
    (local $r i32) ${locals([...common, 'one', 'zero', 'x', 't', 's', 'tp', 'acc', ...cs])}
    ${loadCommon()}
    ${cs.map((c, k) => set(c, slot(7 + k))).join('\n    ')}
    (local.set $one (f32x4.splat (f32.const 1)))
    ${rowLoop(
      [
        set('x', add(mul(mul(sub('(v128.load (local.get $src))', g('mu')), g('sc')), g('ga')), g('be'))),
        tAndS(),
        set('acc', g('c0')),
        ...steps,
        '(v128.store (local.get $y) (local.get $acc))',
      ].join('\n        '),
      ['src', 'y'],
    )})`;
}

function unrolledBackward(n) {
  const as = range(n + 1).map((k) => `a${k}`);
  const ds = range(n).map((k) => `d${k}`);
  const sp = range(n + 1)
    .slice(1)
    .map((j) => `s${j}`);
  const spow = (j) => (j === 0 ? null : g(`s${j}`));
  const times = (a, b) => (a === null ? b : b === null ? a : mul(a, b));
  const body = [
    '(local.set $gr (v128.load (local.get $dy)))',
    set('xh', mul(sub('(v128.load (local.get $src))', g('mu')), g('sc'))),
    set('x', add(mul(g('xh'), g('ga')), g('be'))),
    tAndS(),
    ...range(n)
      .slice(1)
      .map((i) => set(`s${i + 1}`, mul(g(`s${i}`), g('s')))),
  ];
  if (n >= 1) body.splice(4, 0, set('s1', g('s')));
  for (let k = 0; k <= n; k++) {
    // tp = t^k (null for k = 0)
    if (k === 1) body.push(set('tp', g('t')));
    else if (k > 1) body.push(set('tp', mul(g('tp'), g('t'))));
    const tk = k === 0 ? null : g('tp');
    const basis = times(tk, spow(n - k)) ?? g('one');
    body.push(set(`a${k}`, add(g(`a${k}`), mul(g('gr'), basis))));
    if (k < n) {
      const p = times(tk, spow(n - 1 - k)) ?? g('one');
      body.push(set('ds', k === 0 ? mul(g('d0'), p) : add(g('ds'), mul(g(`d${k}`), p))));
    }
  }
  const dsum = n === 0 ? g('zero') : g('ds');
  body.push(
    set(
      'gv',
      `(v128.and (v128.and (f32x4.ge ${g('x')} ${g('l')}) (f32x4.le ${g('x')} ${g('u')})) ${mul(mul(g('gr'), dsum), g('inv'))})`,
    ),
    '(v128.store (local.get $gx) (local.get $gv))',
    set('aL', add(g('aL'), mul(g('gv'), sub(g('t'), g('one'))))),
    set('aH', sub(g('aH'), mul(g('gv'), g('t')))),
    set('aG', add(g('aG'), g('gv'))),
    set('aGX', add(g('aGX'), mul(g('gv'), g('xh')))),
  );
  const stores = [...as, 'aL', 'aH', 'aG', 'aGX']
    .map((v, i) => `(v128.store offset=${16 * i} (local.get $acc) (local.get $${v}))`)
    .join('\n    ');
  return `(func (export "bern_bwd_${n}") (param $dy i32) (param $src i32) (param $gx i32) (param $B i32) (param $stride i32)
    (param $p i32) (param $n i32) (param $acc i32) (param $sp i32)
    (local $r i32) ${locals([...common, 'one', 'zero', 'gr', 'xh', 'x', 't', 's', 'tp', 'ds', 'gv', 'aL', 'aH', 'aG', 'aGX', ...as, ...ds, ...sp])}
    ${loadCommon()}
    ${ds.map((d, k) => set(d, slot(7 + k))).join('\n    ')}
    (local.set $one (f32x4.splat (f32.const 1)))
    ${rowLoop(body.join('\n        '), ['dy', 'src', 'gx'])}
    ${stores})`;
}

/** The .wat with the unrolled functions added (what is compiled). */
export function fullWat() {
  const wat = readFileSync(path.join(dir, 'bn-simd.wat'), 'utf8').trimEnd();
  if (!wat.endsWith(')')) throw new Error('bn-simd.wat must end with the closing parenthesis of its module');
  const extra = range(UNROLLED_MAX)
    .map((i) => `  ${unrolledForward(i + 1)}\n  ${unrolledBackward(i + 1)}`)
    .join('\n');
  return `${wat.slice(0, -1)}\n  ;; Generated by scripts/build-bn-simd.mjs: degree-unrolled Bernstein kernels.\n${extra}\n)\n`;
}

/** The generated TypeScript for the current .wat. */
export async function generated() {
  const wat = fullWat();
  const wabt = await wabtInit();
  const mod = wabt.parseWat('bn-simd.wat', wat, { simd: true });
  mod.validate();
  const { buffer } = mod.toBinary({});
  mod.destroy();
  return (
    '// Generated by scripts/build-bn-simd.mjs from bn-simd.wat — edit that, not this.\n' +
    `export const BN_SIMD_UNROLLED_MAX = ${UNROLLED_MAX};\n` +
    `export const BN_SIMD_WASM_BASE64 =\n  '${Buffer.from(buffer).toString('base64')}';\n`
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--print')) process.stdout.write(fullWat());
  else writeFileSync(path.join(dir, 'bn-simd.generated.ts'), await generated());
}
