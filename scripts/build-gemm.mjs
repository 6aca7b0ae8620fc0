// Generates the wasm SIMD GEMM (workers/engine/gemm/gemm.wat, the readable source) and compiles it with wabt
// into workers/engine/gemm/gemm-wasm.generated.ts (base64), so builds and CI need no wasm toolchain.
// Run after changing this file: `node scripts/build-gemm.mjs` (test/gemm.test.ts checks both files are current).
//
// C[M,N] = A[M,K]·B[K,N] (+ bias[N]), every operand addressed by (row stride, column stride) in elements, so a
// transposed operand is just swapped strides. B is packed into K×8 column panels (zero-padded at the N edge);
// the 4×8 micro-kernel keeps 8 f32x4 accumulators and does f32x4 mul + add per k (wasm SIMD has no FMA in
// Node 20); A values are broadcast loads (v128.load32_splat). Variants by A's layout: row-major (csA = 1,
// constant offsets), column-major (rsA = 1: one pointer walks k) and general strides; k unrolled by 4.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import wabtInit from 'wabt';

const MR = 4;
const rows = [...Array(MR).keys()];

const fma = (acc, s, b) => `(local.set ${acc} (f32x4.add (local.get ${acc}) (f32x4.mul ${s} ${b})))`;

/** Accumulator locals and their initialisation from the padded bias panel. */
function accDecl(nr) {
  return nr.map((r) => `(local $c${r}0 v128) (local $c${r}1 v128)`).join(' ');
}
function accInit(nr) {
  return [
    '(local.set $b0 (v128.load (local.get $pbias)))',
    '(local.set $b1 (v128.load offset=16 (local.get $pbias)))',
    ...nr.map((r) => `(local.set $c${r}0 (local.get $b0)) (local.set $c${r}1 (local.get $b1))`),
  ].join('\n    ');
}
function accStore(nr) {
  return nr
    .map((r) => {
      const at = r === 0 ? '(local.get $pc)' : `(i32.add (local.get $pc) (i32.mul (local.get $ldc) (i32.const ${r})))`;
      return `(v128.store ${at} (local.get $c${r}0)) (v128.store offset=16 ${at} (local.get $c${r}1))`;
    })
    .join('\n    ');
}
/** One k step for every row given each row's splatted A value. */
function kStep(nr, splat, bOffset) {
  return [
    `(local.set $b0 (v128.load offset=${bOffset} (local.get $pb)))`,
    `(local.set $b1 (v128.load offset=${bOffset + 16} (local.get $pb)))`,
    ...nr.flatMap((r) => [
      `(local.set $s ${splat(r)})`,
      fma(`$c${r}0`, '(local.get $s)', '(local.get $b0)'),
      fma(`$c${r}1`, '(local.get $s)', '(local.get $b1)'),
    ]),
  ].join('\n      ');
}
const rowPtrs = (nr) => nr.map((r) => `(local $p${r} i32)`).join(' ');
const rowPtrInit = (nr) =>
  nr
    .map((r) =>
      r === 0
        ? '(local.set $p0 (local.get $pa))'
        : `(local.set $p${r} (i32.add (local.get $p${r - 1}) (local.get $rsa)))`,
    )
    .join(' ');
const rowPtrAdvance = (nr, by) => nr.map((r) => `(local.set $p${r} (i32.add (local.get $p${r}) ${by}))`).join(' ');

const header =
  '(param $K i32) (param $pa i32) (param $rsa i32) (param $csa i32) (param $pb i32) (param $pc i32) (param $ldc i32) (param $pbias i32)';
const common = '(local $k i32) (local $b0 v128) (local $b1 v128) (local $s v128)';

/**
 * A 4-way unrolled k loop plus a one-k remainder loop. `splat(r, l)` is row r's A value at the l-th k of the
 * step as an f32x4 splat (v128.load32_splat: one broadcast load, no shuffle); `advance(n)` moves A on n k's.
 */
function kernel(name, nr, extraLocals, init, splat, advance, unroll) {
  const loop = (label, n) => `
    (block $done${label} (loop $next${label}
      (br_if $done${label} (i32.lt_u (local.get $k) (i32.const ${n})))
      ${[...Array(n).keys()].map((l) => kStep(nr, (r) => splat(r, l), 32 * l)).join('\n      ')}
      ${advance(n)}
      (local.set $pb (i32.add (local.get $pb) (i32.const ${32 * n})))
      (local.set $k (i32.sub (local.get $k) (i32.const ${n})))
      (br $next${label})))`;
  return `
  (func ${name} ${header}
    ${common} ${accDecl(nr)} ${extraLocals}
    ${accInit(nr)}
    ${init}
    (local.set $k (local.get $K))${unroll > 1 ? loop('U', unroll) : ''}${loop('1', 1)}
    ${accStore(nr)})`;
}

/** Row-major A (csa = 4 bytes): each row's next k's are at constant offsets. */
const kernelRowMajor = (nr) =>
  kernel(
    '$mk4r',
    nr,
    rowPtrs(nr),
    rowPtrInit(nr),
    (r, l) => `(v128.load32_splat offset=${4 * l} (local.get $p${r}))`,
    (n) => rowPtrAdvance(nr, `(i32.const ${4 * n})`),
    4,
  );

/** Column-major A (rsa = 4 bytes): the rows at one k are adjacent; one pointer walks k by csa. */
const kernelColMajor = (nr) =>
  kernel(
    '$mk4c',
    nr,
    '(local $q i32)',
    '',
    (r, l) =>
      `(v128.load32_splat offset=${4 * r} ${l === 0 ? '(local.get $pa)' : r > 0 ? '(local.get $q)' : `(local.tee $q (i32.add (local.get $pa) (i32.mul (local.get $csa) (i32.const ${l}))))`})`,
    (n) => `(local.set $pa (i32.add (local.get $pa) (i32.mul (local.get $csa) (i32.const ${n}))))`,
    4,
  );

/** General strides (and leftover rows): one k per iteration. */
const kernelScalar = (name, nr) =>
  kernel(
    name,
    nr,
    rowPtrs(nr),
    rowPtrInit(nr),
    (r) => `(v128.load32_splat (local.get $p${r}))`,
    () => rowPtrAdvance(nr, '(local.get $csa)'),
    1,
  );

/** i8x16.shuffle picking i32 lanes (0–3 of a, 4–7 of b). */
const shuffle32 = (lanes, a, b) =>
  `(i8x16.shuffle ${lanes.flatMap((l) => [0, 1, 2, 3].map((q) => 4 * l + q)).join(' ')} ${a} ${b})`;
// A transposed B (rsB = 1) packs four k at a time by 4×4 register transposes: for each half-panel, four columns'
// runs of 4 k are four v128 loads, shuffled into four rows of the panel. Leaves $k/$dst at the k remainder.
const packTransposed = `
            (local.set $csb4 (i32.shl (local.get $csB) (i32.const 2)))
            (block $tdone (loop $tnext
              (br_if $tdone (i32.gt_u (i32.add (local.get $k) (i32.const 4)) (local.get $K)))
              ${[0, 1]
                .map(
                  (h) => `
              (local.set $src (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (i32.add (local.get $j0) (i32.const ${4 * h})) (local.get $csB)) (local.get $k)) (i32.const 2))))
              ${[0, 1, 2, 3].map((q) => `(local.set $v${q} (v128.load ${q === 0 ? '(local.get $src)' : `(i32.add (local.get $src) (i32.mul (local.get $csb4) (i32.const ${q})))`}))`).join(' ')}
              (local.set $t0 ${shuffle32([0, 4, 1, 5], '(local.get $v0)', '(local.get $v1)')})
              (local.set $t1 ${shuffle32([0, 4, 1, 5], '(local.get $v2)', '(local.get $v3)')})
              (local.set $t2 ${shuffle32([2, 6, 3, 7], '(local.get $v0)', '(local.get $v1)')})
              (local.set $t3 ${shuffle32([2, 6, 3, 7], '(local.get $v2)', '(local.get $v3)')})
              (v128.store offset=${16 * h} (local.get $dst) ${shuffle32([0, 1, 4, 5], '(local.get $t0)', '(local.get $t1)')})
              (v128.store offset=${16 * h + 32} (local.get $dst) ${shuffle32([2, 3, 6, 7], '(local.get $t0)', '(local.get $t1)')})
              (v128.store offset=${16 * h + 64} (local.get $dst) ${shuffle32([0, 1, 4, 5], '(local.get $t2)', '(local.get $t3)')})
              (v128.store offset=${16 * h + 96} (local.get $dst) ${shuffle32([2, 3, 6, 7], '(local.get $t2)', '(local.get $t3)')})`,
                )
                .join('')}
              (local.set $dst (i32.add (local.get $dst) (i32.const 128)))
              (local.set $k (i32.add (local.get $k) (i32.const 4)))
              (br $tnext)))`;

// The driver: pack B and the bias, then every MR-row block × 8-column panel. Edge panels go through a 4×8 tile
// in scratch and are copied out column by column. Scratch (16-byte aligned): K·Npad + Npad + MR·8 floats.
const driver = `
  (func (export "gemm")
    (param $M i32) (param $N i32) (param $K i32)
    (param $a i32) (param $rsA i32) (param $csA i32)
    (param $b i32) (param $rsB i32) (param $csB i32)
    (param $c i32) (param $ldc i32) (param $bias i32) (param $scratch i32)
    (local $npan i32) (local $npad i32) (local $packB i32) (local $biasPad i32) (local $tile i32)
    (local $jp i32) (local $j0 i32) (local $k i32) (local $jj i32) (local $dst i32) (local $src i32)
    (local $i0 i32) (local $pa i32) (local $pb i32) (local $pc i32) (local $ldd i32) (local $full i32)
    (local $r i32) (local $rows i32) (local $ncol i32)
    (local $rsa i32) (local $csa i32) (local $ldcb i32) (local $panelBytes i32)
    (local $csb4 i32) (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $npan (i32.shr_u (i32.add (local.get $N) (i32.const 7)) (i32.const 3)))
    (local.set $npad (i32.shl (local.get $npan) (i32.const 3)))
    (local.set $packB (local.get $scratch))
    (local.set $panelBytes (i32.shl (local.get $K) (i32.const 5)))
    (local.set $biasPad (i32.add (local.get $packB) (i32.mul (local.get $panelBytes) (local.get $npan))))
    (local.set $tile (i32.add (local.get $biasPad) (i32.shl (local.get $npad) (i32.const 2))))
    (local.set $rsa (i32.shl (local.get $rsA) (i32.const 2)))
    (local.set $csa (i32.shl (local.get $csA) (i32.const 2)))
    (local.set $ldcb (i32.shl (local.get $ldc) (i32.const 2)))
    ;; pack B into K×8 panels
    (local.set $jp (i32.const 0))
    (block $pdone (loop $pnext
      (br_if $pdone (i32.ge_u (local.get $jp) (local.get $npan)))
      (local.set $j0 (i32.shl (local.get $jp) (i32.const 3)))
      (local.set $dst (i32.add (local.get $packB) (i32.mul (local.get $jp) (local.get $panelBytes))))
      (local.set $k (i32.const 0))
      (if (i32.and (i32.eq (local.get $csB) (i32.const 1)) (i32.le_u (i32.add (local.get $j0) (i32.const 8)) (local.get $N)))
        (then
          (block $kdone (loop $knext
            (br_if $kdone (i32.ge_u (local.get $k) (local.get $K)))
            (local.set $src (i32.add (local.get $b) (i32.shl (i32.add (i32.mul (local.get $k) (local.get $rsB)) (local.get $j0)) (i32.const 2))))
            (v128.store (local.get $dst) (v128.load (local.get $src)))
            (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $src)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $knext))))
        (else
          (if (i32.and (i32.eq (local.get $rsB) (i32.const 1)) (i32.le_u (i32.add (local.get $j0) (i32.const 8)) (local.get $N)))
            (then ${packTransposed}))
          (block $kdone2 (loop $knext2
            (br_if $kdone2 (i32.ge_u (local.get $k) (local.get $K)))
            (local.set $jj (i32.const 0))
            (block $jdone (loop $jnext
              (br_if $jdone (i32.ge_u (local.get $jj) (i32.const 8)))
              (f32.store (i32.add (local.get $dst) (i32.shl (local.get $jj) (i32.const 2)))
                (if (result f32) (i32.lt_u (i32.add (local.get $j0) (local.get $jj)) (local.get $N))
                  (then (f32.load (i32.add (local.get $b) (i32.shl
                    (i32.add (i32.mul (local.get $k) (local.get $rsB)) (i32.mul (i32.add (local.get $j0) (local.get $jj)) (local.get $csB)))
                    (i32.const 2)))))
                  (else (f32.const 0))))
              (local.set $jj (i32.add (local.get $jj) (i32.const 1)))
              (br $jnext)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $knext2)))))
      (local.set $jp (i32.add (local.get $jp) (i32.const 1)))
      (br $pnext)))
    ;; pad the bias (zeros without one)
    (local.set $jj (i32.const 0))
    (block $bdone (loop $bnext
      (br_if $bdone (i32.ge_u (local.get $jj) (local.get $npad)))
      (f32.store (i32.add (local.get $biasPad) (i32.shl (local.get $jj) (i32.const 2)))
        (if (result f32) (i32.and (i32.ne (local.get $bias) (i32.const 0)) (i32.lt_u (local.get $jj) (local.get $N)))
          (then (f32.load (i32.add (local.get $bias) (i32.shl (local.get $jj) (i32.const 2)))))
          (else (f32.const 0))))
      (local.set $jj (i32.add (local.get $jj) (i32.const 1)))
      (br $bnext)))
    ;; row blocks × panels
    (local.set $i0 (i32.const 0))
    (block $idone (loop $inext
      (br_if $idone (i32.ge_u (local.get $i0) (local.get $M)))
      (local.set $rows (select (i32.const ${MR}) (i32.const 1) (i32.le_u (i32.add (local.get $i0) (i32.const ${MR})) (local.get $M))))
      (local.set $pa (i32.add (local.get $a) (i32.mul (local.get $i0) (local.get $rsa))))
      (local.set $jp (i32.const 0))
      (block $jpdone (loop $jpnext
        (br_if $jpdone (i32.ge_u (local.get $jp) (local.get $npan)))
        (local.set $j0 (i32.shl (local.get $jp) (i32.const 3)))
        (local.set $pb (i32.add (local.get $packB) (i32.mul (local.get $jp) (local.get $panelBytes))))
        (local.set $full (i32.le_u (i32.add (local.get $j0) (i32.const 8)) (local.get $N)))
        (local.set $pc (select (i32.add (local.get $c) (i32.add (i32.mul (local.get $i0) (local.get $ldcb)) (i32.shl (local.get $j0) (i32.const 2)))) (local.get $tile) (local.get $full)))
        (local.set $ldd (select (local.get $ldcb) (i32.const 32) (local.get $full)))
        (if (i32.eq (local.get $rows) (i32.const ${MR}))
          (then
            (if (i32.eq (local.get $csA) (i32.const 1))
              (then (call $mk4r (local.get $K) (local.get $pa) (local.get $rsa) (local.get $csa) (local.get $pb) (local.get $pc) (local.get $ldd) (i32.add (local.get $biasPad) (i32.shl (local.get $j0) (i32.const 2)))))
              (else (if (i32.eq (local.get $rsA) (i32.const 1))
                (then (call $mk4c (local.get $K) (local.get $pa) (local.get $rsa) (local.get $csa) (local.get $pb) (local.get $pc) (local.get $ldd) (i32.add (local.get $biasPad) (i32.shl (local.get $j0) (i32.const 2)))))
                (else (call $mk4s (local.get $K) (local.get $pa) (local.get $rsa) (local.get $csa) (local.get $pb) (local.get $pc) (local.get $ldd) (i32.add (local.get $biasPad) (i32.shl (local.get $j0) (i32.const 2)))))))))
          (else (call $mk1 (local.get $K) (local.get $pa) (local.get $rsa) (local.get $csa) (local.get $pb) (local.get $pc) (local.get $ldd) (i32.add (local.get $biasPad) (i32.shl (local.get $j0) (i32.const 2))))))
        (if (i32.eqz (local.get $full))
          (then
            (local.set $ncol (i32.sub (local.get $N) (local.get $j0)))
            (local.set $r (i32.const 0))
            (block $rdone (loop $rnext
              (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows)))
              (local.set $jj (i32.const 0))
              (block $cdone (loop $cnext
                (br_if $cdone (i32.ge_u (local.get $jj) (local.get $ncol)))
                (f32.store
                  (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (i32.add (local.get $i0) (local.get $r)) (local.get $ldc)) (i32.add (local.get $j0) (local.get $jj))) (i32.const 2)))
                  (f32.load (i32.add (local.get $tile) (i32.shl (i32.add (i32.shl (local.get $r) (i32.const 3)) (local.get $jj)) (i32.const 2)))))
                (local.set $jj (i32.add (local.get $jj) (i32.const 1)))
                (br $cnext)))
              (local.set $r (i32.add (local.get $r) (i32.const 1)))
              (br $rnext)))))
        (local.set $jp (i32.add (local.get $jp) (i32.const 1)))
        (br $jpnext)))
      (local.set $i0 (i32.add (local.get $i0) (local.get $rows)))
      (br $inext))))`;

export function gemmWat() {
  return `;; Generated by scripts/build-gemm.mjs — edit that, not this.
(module
  (import "env" "memory" (memory 1))${kernelRowMajor(rows)}${kernelColMajor(rows)}${kernelScalar('$mk4s', rows)}${kernelScalar('$mk1', [0])}${driver}
)
`;
}

/** The two generated files' contents: the .wat source and the .ts module holding the compiled wasm. */
export async function generated() {
  const wat = gemmWat();
  const wabt = await wabtInit();
  const mod = wabt.parseWat('gemm.wat', wat, { simd: true });
  mod.validate();
  const { buffer } = mod.toBinary({});
  mod.destroy();
  const ts =
    `// Generated by scripts/build-gemm.mjs from gemm.wat (${buffer.length} bytes of wasm) — do not edit.\n` +
    `export const GEMM_WASM_BASE64 =\n  '${Buffer.from(buffer).toString('base64')}';\n`;
  return { wat, ts, bytes: buffer.length };
}

async function main() {
  const outDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'workers', 'engine', 'gemm');
  const { wat, ts, bytes } = await generated();
  writeFileSync(path.join(outDir, 'gemm.wat'), wat);
  writeFileSync(path.join(outDir, 'gemm-wasm.generated.ts'), ts);
  console.log(`gemm.wasm: ${bytes} bytes`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
