// Generates the wasm SIMD GEMM (workers/engine/gemm/gemm.wat and gemm-relaxed.wat, the readable sources) and
// compiles both with wabt into workers/engine/gemm/gemm-wasm.generated.ts (base64), so builds and CI need no wasm
// toolchain. Run after changing this file: `node scripts/build-gemm.mjs` (test/gemm.test.ts checks the files).
//
// C[M,N] = A[M,K]·B[K,N] (+ bias[N]), every operand addressed by (row stride, column stride) in elements, so a
// transposed operand is just swapped strides. Both operands are packed first, so the transposes never reach the
// hot loop: B into K×8 column panels ([k][8], the last one 4 wide when N mod 8 ∈ 1…4, zero-padded at the N edge)
// once per call, A into one K×MR row panel ([k][MR], zero rows at the M edge) per MR-row block, reused across all
// column panels. The MR×8 micro-kernel keeps 2·MR f32x4 accumulators (started from the padded bias), per k loads
// two B vectors and MR broadcasts (v128.load32_splat) from the two panels by one pointer each, and does f32x4 mul
// + add — or, in the second module (gemm-relaxed.wat), f32x4.relaxed_madd: one FMA on x64 where the engine has
// relaxed SIMD (V8 ≥ 11.4, so Electron; Node 20 only behind --experimental-wasm-relaxed-simd), ~1.45× faster
// here. gemm.ts picks one per process, so results are the same bits run to run and across threads; the two
// modules differ from each other by float32 rounding. Every output is one fixed-order sum (bias, then
// k = 0 … K−1). Measured on V8 11.3 (x64), the choices that matter: no k unrolling (Turbofan hoists an unrolled
// body's loads and spills accumulators), a bottom-tested loop on the B pointer, MR = 4 (MR = 5 or 6 spill).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import wabtInit from 'wabt';

const MR = 4;

/** The module's text; `relaxed`: the multiply-adds as f32x4.relaxed_madd (one FMA on x64 with FMA3). */
export function gemmWat(relaxed = false) {
  const R = [...Array(MR).keys()];

  /**
   * The MR × 4·nv micro-kernel: C tile = bias + Σ_k Apanel[k][r]·Bpanel[k][j], stored at pc (row stride ldc
   * bytes), rows ≥ `rows` skipped (the M edge).
   */
  function kernel(nv) {
    const V = [...Array(nv).keys()];
    const NRB = 16 * nv;
    const acc = (r, v) => `$c${r}_${v}`;
    const step = [
      ...V.map((v) => `(local.set $b${v} (v128.load offset=${16 * v} (local.get $pb)))`),
      ...R.flatMap((r) => [
        `(local.set $s (v128.load32_splat offset=${4 * r} (local.get $pa)))`,
        ...V.map((v) =>
          relaxed
            ? `(local.set ${acc(r, v)} (f32x4.relaxed_madd (local.get $s) (local.get $b${v}) (local.get ${acc(r, v)})))`
            : `(local.set ${acc(r, v)} (f32x4.add (local.get ${acc(r, v)}) (f32x4.mul (local.get $s) (local.get $b${v}))))`,
        ),
      ]),
    ].join('\n        ');
    const store = (r) => {
      const at = r === 0 ? '(local.get $pc)' : `(local.tee $q (i32.add (local.get $q) (local.get $ldc)))`;
      const first = `(v128.store ${at} (local.get ${acc(r, 0)}))`;
      const rest = V.slice(1).map((v) => `(v128.store offset=${16 * v} (local.get $q) (local.get ${acc(r, v)}))`);
      const body = [r === 0 ? `(local.set $q (local.get $pc))` : '', first, ...rest].join(' ');
      return r === 0 ? body : `(if (i32.gt_u (local.get $rows) (i32.const ${r})) (then ${body}))`;
    };
    return `
  (func $mk${nv} (param $K i32) (param $pa i32) (param $pb i32) (param $pc i32) (param $ldc i32) (param $pbias i32) (param $rows i32)
    (local $end i32) (local $q i32) (local $s v128) ${V.map((v) => `(local $b${v} v128)`).join(' ')}
    ${R.flatMap((r) => V.map((v) => `(local ${acc(r, v)} v128)`)).join(' ')}
    ${V.map((v) => `(local.set $b${v} (v128.load offset=${16 * v} (local.get $pbias)))`).join(' ')}
    ${R.flatMap((r) => V.map((v) => `(local.set ${acc(r, v)} (local.get $b${v}))`)).join(' ')}
    (local.set $end (i32.add (local.get $pb) (i32.mul (local.get $K) (i32.const ${NRB}))))
    (if (i32.ne (local.get $pb) (local.get $end)) (then (loop $k
        ${step}
        (local.set $pa (i32.add (local.get $pa) (i32.const ${4 * MR})))
        (br_if $k (i32.ne (local.tee $pb (i32.add (local.get $pb) (i32.const ${NRB}))) (local.get $end))))))
    ${R.map(store).join('\n    ')})`;
  }

  const shuffle32 = (lanes, a, b) =>
    `(i8x16.shuffle ${lanes.flatMap((l) => [0, 1, 2, 3].map((q) => 4 * l + q)).join(' ')} ${a} ${b})`;
  /** 4×4 transpose of $v0..$v3 (rows) into stores at dst + q·stride (+ off): column q of the block. */
  const transpose4 = (dst, stride, off) => `
              (local.set $t0 ${shuffle32([0, 4, 1, 5], '(local.get $v0)', '(local.get $v1)')})
              (local.set $t1 ${shuffle32([0, 4, 1, 5], '(local.get $v2)', '(local.get $v3)')})
              (local.set $t2 ${shuffle32([2, 6, 3, 7], '(local.get $v0)', '(local.get $v1)')})
              (local.set $t3 ${shuffle32([2, 6, 3, 7], '(local.get $v2)', '(local.get $v3)')})
              (v128.store offset=${off} ${dst} ${shuffle32([0, 1, 4, 5], '(local.get $t0)', '(local.get $t1)')})
              (v128.store offset=${off + stride} ${dst} ${shuffle32([2, 3, 6, 7], '(local.get $t0)', '(local.get $t1)')})
              (v128.store offset=${off + 2 * stride} ${dst} ${shuffle32([0, 1, 4, 5], '(local.get $t2)', '(local.get $t3)')})
              (v128.store offset=${off + 3 * stride} ${dst} ${shuffle32([2, 3, 6, 7], '(local.get $t2)', '(local.get $t3)')})`;

  // pack one MR-row panel of A (rows i0 … i0+rows−1, zero rows below) into apan as [k][MR]
  const packA = `
  (func $packA (param $K i32) (param $p i32) (param $rsa i32) (param $csa i32) (param $rows i32) (param $dst i32)
    (local $k i32) (local $r i32) (local $q i32) (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (if (i32.eq (local.get $rows) (i32.const ${MR}))
      (then
        (if (i32.eq (local.get $rsa) (i32.const 4))
          (then ;; column-major A: the MR rows at one k are adjacent
            (block $x (loop $l
              (br_if $x (i32.ge_u (local.get $k) (local.get $K)))
              ${R.filter((r) => r % 4 === 0)
                .map((r) =>
                  r + 4 <= MR
                    ? `(v128.store offset=${4 * r} (local.get $dst) (v128.load offset=${4 * r} (local.get $p)))`
                    : R.slice(r)
                        .map(
                          (rr) =>
                            `(f32.store offset=${4 * rr} (local.get $dst) (f32.load offset=${4 * rr} (local.get $p)))`,
                        )
                        .join(' '),
                )
                .join(' ')}
              (local.set $p (i32.add (local.get $p) (local.get $csa)))
              (local.set $dst (i32.add (local.get $dst) (i32.const ${4 * MR})))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (br $l)))
            (return)))
        (if (i32.eq (local.get $csa) (i32.const 4))
          (then ;; row-major A: 4×4 transposes of rows 0–3, four k at a time
            (block $x (loop $l
              (br_if $x (i32.gt_u (i32.add (local.get $k) (i32.const 4)) (local.get $K)))
              ${[0, 1, 2, 3].map((q) => `(local.set $v${q} (v128.load ${q === 0 ? '(local.get $p)' : `(i32.add (local.get $p) (i32.mul (local.get $rsa) (i32.const ${q})))`}))`).join(' ')}
              ${transpose4('(local.get $dst)', 4 * MR, 0)}
              ${R.slice(4)
                .map(
                  (r) =>
                    `(local.set $v0 (v128.load (i32.add (local.get $p) (i32.mul (local.get $rsa) (i32.const ${r})))))` +
                    [0, 1, 2, 3]
                      .map(
                        (q) =>
                          ` (v128.store32_lane offset=${4 * r + q * 4 * MR} ${q} (local.get $dst) (local.get $v0))`,
                      )
                      .join(''),
                )
                .join('\n              ')}
              (local.set $p (i32.add (local.get $p) (i32.const 16)))
              (local.set $dst (i32.add (local.get $dst) (i32.const ${16 * MR})))
              (local.set $k (i32.add (local.get $k) (i32.const 4)))
              (br $l)))))))
    ;; the rest (general strides, the k remainder, the M edge) element by element
    (block $x (loop $l
      (br_if $x (i32.ge_u (local.get $k) (local.get $K)))
      (local.set $q (local.get $p))
      ${R.map(
        (r) =>
          `(f32.store offset=${4 * r} (local.get $dst) (if (result f32) (i32.gt_u (local.get $rows) (i32.const ${r})) (then (f32.load (local.get $q))) (else (f32.const 0))))` +
          (r < MR - 1 ? ` (local.set $q (i32.add (local.get $q) (local.get $rsa)))` : ''),
      ).join('\n      ')}
      (local.set $p (i32.add (local.get $p) (local.get $csa)))
      (local.set $dst (i32.add (local.get $dst) (i32.const ${4 * MR})))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $l))))`;

  // pack one w-column panel of B (columns j0 …, w ∈ {4, 8}; zero columns past N) into dst as [k][w]
  const packB = `
  (func $packB (param $K i32) (param $p i32) (param $rsb i32) (param $csb i32) (param $cols i32) (param $w i32) (param $dst i32)
    (local $k i32) (local $j i32) (local $q i32) (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (if (i32.eq (local.get $cols) (local.get $w))
      (then
        (if (i32.eq (local.get $csb) (i32.const 4))
          (then ;; row-major B: each k's w columns are adjacent
            (if (i32.eq (local.get $w) (i32.const 8))
              (then
                (block $x (loop $l
                  (br_if $x (i32.ge_u (local.get $k) (local.get $K)))
                  (v128.store (local.get $dst) (v128.load (local.get $p)))
                  (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $p)))
                  (local.set $p (i32.add (local.get $p) (local.get $rsb)))
                  (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
                  (local.set $k (i32.add (local.get $k) (i32.const 1)))
                  (br $l))))
              (else
                (block $x (loop $l
                  (br_if $x (i32.ge_u (local.get $k) (local.get $K)))
                  (v128.store (local.get $dst) (v128.load (local.get $p)))
                  (local.set $p (i32.add (local.get $p) (local.get $rsb)))
                  (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
                  (local.set $k (i32.add (local.get $k) (i32.const 1)))
                  (br $l)))))
            (return)))
        (if (i32.eq (local.get $rsb) (i32.const 4))
          (then ;; transposed B: 4×4 transposes, four k at a time
            (block $x (loop $l
              (br_if $x (i32.gt_u (i32.add (local.get $k) (i32.const 4)) (local.get $K)))
              (local.set $j (i32.const 0))
              (block $jx (loop $jl
                (local.set $q (i32.add (local.get $p) (i32.mul (local.get $j) (local.get $csb))))
                (local.set $v0 (v128.load (local.get $q)))
                (local.set $v1 (v128.load (local.tee $q (i32.add (local.get $q) (local.get $csb)))))
                (local.set $v2 (v128.load (local.tee $q (i32.add (local.get $q) (local.get $csb)))))
                (local.set $v3 (v128.load (local.tee $q (i32.add (local.get $q) (local.get $csb)))))
                (local.set $q (i32.add (local.get $dst) (i32.shl (local.get $j) (i32.const 2))))
                (if (i32.eq (local.get $w) (i32.const 8))
                  (then ${transpose4('(local.get $q)', 32, 0)})
                  (else ${transpose4('(local.get $q)', 16, 0)}))
                (local.set $j (i32.add (local.get $j) (i32.const 4)))
                (br_if $jl (i32.lt_u (local.get $j) (local.get $w)))))
              (local.set $p (i32.add (local.get $p) (i32.const 16)))
              (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $w) (i32.const 4))))
              (local.set $k (i32.add (local.get $k) (i32.const 4)))
              (br $l)))))))
    (block $x (loop $l
      (br_if $x (i32.ge_u (local.get $k) (local.get $K)))
      (local.set $q (local.get $p))
      (local.set $j (i32.const 0))
      (block $jx (loop $jl
        (f32.store (i32.add (local.get $dst) (i32.shl (local.get $j) (i32.const 2)))
          (if (result f32) (i32.lt_u (local.get $j) (local.get $cols)) (then (f32.load (local.get $q))) (else (f32.const 0))))
        (local.set $q (i32.add (local.get $q) (local.get $csb)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $jl (i32.lt_u (local.get $j) (local.get $w)))))
      (local.set $p (i32.add (local.get $p) (local.get $rsb)))
      (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $w) (i32.const 2))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $l))))`;

  // The driver. Panels of B are 8 wide, the last one 4 wide when N mod 8 ∈ 1…4. Scratch (16-aligned regions):
  // packed B (K·8 floats per panel), padded bias (Npad), one A panel (K·MR), an MR×8 edge tile.
  const driver = `
  (func (export "gemm")
    (param $M i32) (param $N i32) (param $K i32)
    (param $a i32) (param $rsA i32) (param $csA i32)
    (param $b i32) (param $rsB i32) (param $csB i32)
    (param $c i32) (param $ldc i32) (param $bias i32) (param $scratch i32)
    (local $npan i32) (local $npad i32) (local $packB i32) (local $biasPad i32) (local $apan i32) (local $tile i32)
    (local $jp i32) (local $j0 i32) (local $w i32) (local $cols i32) (local $jj i32) (local $r i32)
    (local $i0 i32) (local $rows i32) (local $pc i32) (local $pb i32) (local $panelBytes i32)
    (local $rsa i32) (local $csa i32) (local $ldcb i32)
    (local.set $npan (i32.shr_u (i32.add (local.get $N) (i32.const 7)) (i32.const 3)))
    (local.set $npad (i32.shl (local.get $npan) (i32.const 3)))
    (local.set $panelBytes (i32.shl (local.get $K) (i32.const 5)))
    (local.set $packB (local.get $scratch))
    (local.set $biasPad (i32.add (local.get $packB) (i32.mul (local.get $panelBytes) (local.get $npan))))
    (local.set $apan (i32.add (local.get $biasPad) (i32.shl (local.get $npad) (i32.const 2))))
    (local.set $tile (i32.add (local.get $apan) (i32.and (i32.add (i32.mul (local.get $K) (i32.const ${4 * MR})) (i32.const 15)) (i32.const -16))))
    (local.set $rsa (i32.shl (local.get $rsA) (i32.const 2)))
    (local.set $csa (i32.shl (local.get $csA) (i32.const 2)))
    (local.set $ldcb (i32.shl (local.get $ldc) (i32.const 2)))
    ;; pack B
    (local.set $jp (i32.const 0))
    (block $x (loop $l
      (br_if $x (i32.ge_u (local.get $jp) (local.get $npan)))
      (local.set $j0 (i32.shl (local.get $jp) (i32.const 3)))
      (local.set $cols (i32.sub (local.get $N) (local.get $j0)))
      (local.set $cols (select (i32.const 8) (local.get $cols) (i32.gt_u (local.get $cols) (i32.const 8))))
      (local.set $w (select (i32.const 4) (i32.const 8) (i32.le_u (local.get $cols) (i32.const 4))))
      (call $packB (local.get $K)
        (i32.add (local.get $b) (i32.shl (i32.mul (local.get $j0) (local.get $csB)) (i32.const 2)))
        (i32.shl (local.get $rsB) (i32.const 2)) (i32.shl (local.get $csB) (i32.const 2))
        (local.get $cols) (local.get $w) (i32.add (local.get $packB) (i32.mul (local.get $jp) (local.get $panelBytes))))
      (local.set $jp (i32.add (local.get $jp) (i32.const 1)))
      (br $l)))
    ;; pad the bias (zeros without one)
    (local.set $jj (i32.const 0))
    (block $x (loop $l
      (br_if $x (i32.ge_u (local.get $jj) (local.get $npad)))
      (f32.store (i32.add (local.get $biasPad) (i32.shl (local.get $jj) (i32.const 2)))
        (if (result f32) (i32.and (i32.ne (local.get $bias) (i32.const 0)) (i32.lt_u (local.get $jj) (local.get $N)))
          (then (f32.load (i32.add (local.get $bias) (i32.shl (local.get $jj) (i32.const 2)))))
          (else (f32.const 0))))
      (local.set $jj (i32.add (local.get $jj) (i32.const 1)))
      (br $l)))
    ;; row panels × column panels
    (local.set $i0 (i32.const 0))
    (block $ix (loop $il
      (br_if $ix (i32.ge_u (local.get $i0) (local.get $M)))
      (local.set $rows (i32.sub (local.get $M) (local.get $i0)))
      (local.set $rows (select (i32.const ${MR}) (local.get $rows) (i32.gt_u (local.get $rows) (i32.const ${MR}))))
      (call $packA (local.get $K) (i32.add (local.get $a) (i32.mul (local.get $i0) (local.get $rsa)))
        (local.get $rsa) (local.get $csa) (local.get $rows) (local.get $apan))
      (local.set $jp (i32.const 0))
      (block $jx (loop $jl
        (br_if $jx (i32.ge_u (local.get $jp) (local.get $npan)))
        (local.set $j0 (i32.shl (local.get $jp) (i32.const 3)))
        (local.set $cols (i32.sub (local.get $N) (local.get $j0)))
        (local.set $pb (i32.add (local.get $packB) (i32.mul (local.get $jp) (local.get $panelBytes))))
        (if (i32.ge_u (local.get $cols) (i32.const 8))
          (then
            (call $mk2 (local.get $K) (local.get $apan) (local.get $pb)
              (i32.add (local.get $c) (i32.add (i32.mul (local.get $i0) (local.get $ldcb)) (i32.shl (local.get $j0) (i32.const 2))))
              (local.get $ldcb) (i32.add (local.get $biasPad) (i32.shl (local.get $j0) (i32.const 2))) (local.get $rows)))
          (else
            (if (i32.eq (local.get $cols) (i32.const 4))
              (then
                (call $mk1 (local.get $K) (local.get $apan) (local.get $pb)
                  (i32.add (local.get $c) (i32.add (i32.mul (local.get $i0) (local.get $ldcb)) (i32.shl (local.get $j0) (i32.const 2))))
                  (local.get $ldcb) (i32.add (local.get $biasPad) (i32.shl (local.get $j0) (i32.const 2))) (local.get $rows)))
              (else
                (if (i32.lt_u (local.get $cols) (i32.const 4))
                  (then (call $mk1 (local.get $K) (local.get $apan) (local.get $pb) (local.get $tile) (i32.const 32)
                    (i32.add (local.get $biasPad) (i32.shl (local.get $j0) (i32.const 2))) (i32.const ${MR})))
                  (else (call $mk2 (local.get $K) (local.get $apan) (local.get $pb) (local.get $tile) (i32.const 32)
                    (i32.add (local.get $biasPad) (i32.shl (local.get $j0) (i32.const 2))) (i32.const ${MR}))))
                ;; copy the tile's valid part out
                (local.set $r (i32.const 0))
                (block $rx (loop $rl
                  (local.set $pc (i32.add (local.get $c) (i32.add (i32.mul (i32.add (local.get $i0) (local.get $r)) (local.get $ldcb)) (i32.shl (local.get $j0) (i32.const 2)))))
                  (local.set $jj (i32.const 0))
                  (block $cx (loop $cl
                    (f32.store (i32.add (local.get $pc) (i32.shl (local.get $jj) (i32.const 2)))
                      (f32.load (i32.add (local.get $tile) (i32.shl (i32.add (i32.shl (local.get $r) (i32.const 3)) (local.get $jj)) (i32.const 2)))))
                    (local.set $jj (i32.add (local.get $jj) (i32.const 1)))
                    (br_if $cl (i32.lt_u (local.get $jj) (local.get $cols)))))
                  (local.set $r (i32.add (local.get $r) (i32.const 1)))
                  (br_if $rl (i32.lt_u (local.get $r) (local.get $rows)))))))))
        (local.set $jp (i32.add (local.get $jp) (i32.const 1)))
        (br $jl)))
      (local.set $i0 (i32.add (local.get $i0) (i32.const ${MR})))
      (br $il))))`;

  return `;; Generated by scripts/build-gemm.mjs — edit that, not this.
(module
  (import "env" "memory" (memory 1))${kernel(2)}${kernel(1)}${packA}${packB}${driver}
)
`;
}

function compile(wabt, name, wat, relaxed) {
  const mod = wabt.parseWat(name, wat, { simd: true, relaxed_simd: relaxed });
  mod.validate();
  const { buffer } = mod.toBinary({});
  mod.destroy();
  return Buffer.from(buffer);
}

/** The generated files' contents: the two .wat sources and the .ts module holding both compiled modules. */
export async function generated() {
  const wat = gemmWat(false),
    watRelaxed = gemmWat(true);
  const wabt = await wabtInit();
  const bin = compile(wabt, 'gemm.wat', wat, false),
    binRelaxed = compile(wabt, 'gemm-relaxed.wat', watRelaxed, true);
  const ts =
    `// Generated by scripts/build-gemm.mjs from gemm.wat (${bin.length} bytes of wasm) and gemm-relaxed.wat\n` +
    `// (${binRelaxed.length} bytes) — do not edit.\n` +
    `export const GEMM_WASM_BASE64 =\n  '${bin.toString('base64')}';\n` +
    `export const GEMM_RELAXED_WASM_BASE64 =\n  '${binRelaxed.toString('base64')}';\n`;
  return { wat, watRelaxed, ts, bytes: bin.length };
}

async function main() {
  const outDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'workers', 'engine', 'gemm');
  const { wat, watRelaxed, ts, bytes } = await generated();
  writeFileSync(path.join(outDir, 'gemm.wat'), wat);
  writeFileSync(path.join(outDir, 'gemm-relaxed.wat'), watRelaxed);
  writeFileSync(path.join(outDir, 'gemm-wasm.generated.ts'), ts);
  console.log(`gemm.wasm: ${bytes} bytes`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
