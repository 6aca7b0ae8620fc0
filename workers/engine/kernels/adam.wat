;; Adam's update as wasm SIMD (fused-adam.ts runs it: on tfjs-wasm's heap for one thread, on the data-parallel
;; group's shared memory for a sharded update; compiled by scripts/build-adam.mjs into adam.generated.ts, twice:
;; once importing a plain memory, once a shared one). The same arithmetic, in the same order, as the JS loops in
;; fused-adam.ts, in float64 (f64x2, two lanes at a time, four elements per iteration), with the moments and the
;; parameters rounded to float32 where the JS loops store them into Float32Arrays, so the bits are the loops':
;;   m ← β1·m + (1−β1)·g,  v ← β2·v + ((1−β2)·g)·g,  p ← p − (step·m) / (√v·rc2 + ε)   (m, v unrounded in p's line)
;; $c1 = 1 − β1 and $c2 = 1 − β2 come computed (as the JS computes them), so no constant is rounded differently.
(module
  (import "env" "memory" (memory 1))

  ;; Four parameters at byte offset $o: g at $g, p read at $src and written at $dst, moments at $m, $v.
  (func $four (param $g i32) (param $src i32) (param $dst i32) (param $m i32) (param $v i32)
    (param $b1 v128) (param $c1 v128) (param $b2 v128) (param $c2 v128) (param $st v128) (param $rc2 v128) (param $eps v128)
    (local $G v128) (local $M v128) (local $V v128) (local $S v128)
    (local $gl v128) (local $gh v128) (local $ml v128) (local $mh v128) (local $vl v128) (local $vh v128)
    (local.set $G (v128.load (local.get $g)))
    (local.set $M (v128.load (local.get $m)))
    (local.set $V (v128.load (local.get $v)))
    (local.set $S (v128.load (local.get $src)))
    (local.set $gl (f64x2.promote_low_f32x4 (local.get $G)))
    (local.set $gh (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $G) (local.get $G))))
    (local.set $ml (f64x2.add
      (f64x2.mul (local.get $b1) (f64x2.promote_low_f32x4 (local.get $M)))
      (f64x2.mul (local.get $c1) (local.get $gl))))
    (local.set $mh (f64x2.add
      (f64x2.mul (local.get $b1) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $M) (local.get $M))))
      (f64x2.mul (local.get $c1) (local.get $gh))))
    (local.set $vl (f64x2.add
      (f64x2.mul (local.get $b2) (f64x2.promote_low_f32x4 (local.get $V)))
      (f64x2.mul (f64x2.mul (local.get $c2) (local.get $gl)) (local.get $gl))))
    (local.set $vh (f64x2.add
      (f64x2.mul (local.get $b2) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $V) (local.get $V))))
      (f64x2.mul (f64x2.mul (local.get $c2) (local.get $gh)) (local.get $gh))))
    (v128.store (local.get $m) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (f32x4.demote_f64x2_zero (local.get $ml)) (f32x4.demote_f64x2_zero (local.get $mh))))
    (v128.store (local.get $v) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (f32x4.demote_f64x2_zero (local.get $vl)) (f32x4.demote_f64x2_zero (local.get $vh))))
    (v128.store (local.get $dst) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
      (f32x4.demote_f64x2_zero
        (f64x2.sub (f64x2.promote_low_f32x4 (local.get $S))
          (f64x2.div (f64x2.mul (local.get $st) (local.get $ml))
            (f64x2.add (f64x2.mul (f64x2.sqrt (local.get $vl)) (local.get $rc2)) (local.get $eps)))))
      (f32x4.demote_f64x2_zero
        (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $S) (local.get $S)))
          (f64x2.div (f64x2.mul (local.get $st) (local.get $mh))
            (f64x2.add (f64x2.mul (f64x2.sqrt (local.get $vh)) (local.get $rc2)) (local.get $eps))))))))

  ;; One parameter (the tail of a range), scalar f64: the same operations as one lane of $four.
  (func $one (param $g i32) (param $src i32) (param $dst i32) (param $m i32) (param $v i32)
    (param $b1 f64) (param $c1 f64) (param $b2 f64) (param $c2 f64) (param $st f64) (param $rc2 f64) (param $eps f64)
    (local $gi f64) (local $mi f64) (local $vi f64)
    (local.set $gi (f64.promote_f32 (f32.load (local.get $g))))
    (local.set $mi (f64.add (f64.mul (local.get $b1) (f64.promote_f32 (f32.load (local.get $m))))
      (f64.mul (local.get $c1) (local.get $gi))))
    (local.set $vi (f64.add (f64.mul (local.get $b2) (f64.promote_f32 (f32.load (local.get $v))))
      (f64.mul (f64.mul (local.get $c2) (local.get $gi)) (local.get $gi))))
    (f32.store (local.get $m) (f32.demote_f64 (local.get $mi)))
    (f32.store (local.get $v) (f32.demote_f64 (local.get $vi)))
    (f32.store (local.get $dst) (f32.demote_f64
      (f64.sub (f64.promote_f32 (f32.load (local.get $src)))
        (f64.div (f64.mul (local.get $st) (local.get $mi))
          (f64.add (f64.mul (f64.sqrt (local.get $vi)) (local.get $rc2)) (local.get $eps)))))))

  ;; Adam over $n parameters: gradients at $g, parameters read at $src and written at $dst (may be $src), moments
  ;; at $m, $v (all float32, byte addresses).
  (func $adam_any (export "adam") (param $g i32) (param $src i32) (param $dst i32) (param $m i32) (param $v i32) (param $n i32)
    (param $b1 f64) (param $c1 f64) (param $b2 f64) (param $c2 f64) (param $st f64) (param $rc2 f64) (param $eps f64)
    (local $i i32) (local $n4 i32) (local $o i32)
    (local.set $n4 (i32.and (local.get $n) (i32.const -4)))
    (block $done
      (loop $quads
        (br_if $done (i32.ge_u (local.get $i) (local.get $n4)))
        (local.set $o (i32.shl (local.get $i) (i32.const 2)))
        (call $four
          (i32.add (local.get $g) (local.get $o)) (i32.add (local.get $src) (local.get $o))
          (i32.add (local.get $dst) (local.get $o)) (i32.add (local.get $m) (local.get $o))
          (i32.add (local.get $v) (local.get $o))
          (f64x2.splat (local.get $b1)) (f64x2.splat (local.get $c1)) (f64x2.splat (local.get $b2))
          (f64x2.splat (local.get $c2)) (f64x2.splat (local.get $st)) (f64x2.splat (local.get $rc2))
          (f64x2.splat (local.get $eps)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $quads)))
    (block $end
      (loop $tail
        (br_if $end (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $o (i32.shl (local.get $i) (i32.const 2)))
        (call $one
          (i32.add (local.get $g) (local.get $o)) (i32.add (local.get $src) (local.get $o))
          (i32.add (local.get $dst) (local.get $o)) (i32.add (local.get $m) (local.get $o))
          (i32.add (local.get $v) (local.get $o))
          (local.get $b1) (local.get $c1) (local.get $b2) (local.get $c2) (local.get $st) (local.get $rc2)
          (local.get $eps))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail))))

  ;; The sharded update of a data-parallel run: parameters [from, to) of the flat vector. Each replica's
  ;; gradients are P floats at $grads + r·P·4 (r = 0 … $size − 1); their sum, in rank order in float64 and rounded
  ;; once to float32 (as the JS exchange sums), is written to $sum (its [from, to)), then Adam runs on that range
  ;; of $p (in place), $m, $v.
  (func (export "sum_adam") (param $grads i32) (param $P i32) (param $size i32) (param $from i32) (param $to i32)
    (param $sum i32) (param $p i32) (param $m i32) (param $v i32)
    (param $b1 f64) (param $c1 f64) (param $b2 f64) (param $c2 f64) (param $st f64) (param $rc2 f64) (param $eps f64)
    (local $j i32) (local $r i32) (local $stride i32) (local $q i32) (local $lo v128) (local $hi v128) (local $x v128)
    (local $s f64) (local $o i32) (local $n i32)
    (local.set $stride (i32.shl (local.get $P) (i32.const 2)))
    ;; the sums, four at a time, then the tail
    (local.set $j (local.get $from))
    (block $done
      (loop $quads
        (br_if $done (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $to)))
        (local.set $q (i32.add (local.get $grads) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $x (v128.load (local.get $q)))
        (local.set $lo (f64x2.promote_low_f32x4 (local.get $x)))
        (local.set $hi (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x))))
        (local.set $r (i32.const 1))
        (block $ranks_done
          (loop $ranks
            (br_if $ranks_done (i32.ge_u (local.get $r) (local.get $size)))
            (local.set $q (i32.add (local.get $q) (local.get $stride)))
            (local.set $x (v128.load (local.get $q)))
            (local.set $lo (f64x2.add (local.get $lo) (f64x2.promote_low_f32x4 (local.get $x))))
            (local.set $hi (f64x2.add (local.get $hi)
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x)))))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $ranks)))
        (v128.store (i32.add (local.get $sum) (i32.shl (local.get $j) (i32.const 2)))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (local.get $lo)) (f32x4.demote_f64x2_zero (local.get $hi))))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $quads)))
    (block $end
      (loop $tail
        (br_if $end (i32.ge_u (local.get $j) (local.get $to)))
        (local.set $q (i32.add (local.get $grads) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $s (f64.promote_f32 (f32.load (local.get $q))))
        (local.set $r (i32.const 1))
        (block $ranks_done
          (loop $ranks
            (br_if $ranks_done (i32.ge_u (local.get $r) (local.get $size)))
            (local.set $q (i32.add (local.get $q) (local.get $stride)))
            (local.set $s (f64.add (local.get $s) (f64.promote_f32 (f32.load (local.get $q)))))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $ranks)))
        (f32.store (i32.add (local.get $sum) (i32.shl (local.get $j) (i32.const 2))) (f32.demote_f64 (local.get $s)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $tail)))
    (local.set $o (i32.shl (local.get $from) (i32.const 2)))
    (local.set $n (i32.sub (local.get $to) (local.get $from)))
    (call $adam_at (i32.add (local.get $sum) (local.get $o)) (i32.add (local.get $p) (local.get $o))
      (i32.add (local.get $m) (local.get $o)) (i32.add (local.get $v) (local.get $o)) (local.get $n)
      (local.get $b1) (local.get $c1) (local.get $b2) (local.get $c2) (local.get $st) (local.get $rc2) (local.get $eps)))

  ;; adam in place (src = dst = $p), for sum_adam.
  (func $adam_at (param $g i32) (param $p i32) (param $m i32) (param $v i32) (param $n i32)
    (param $b1 f64) (param $c1 f64) (param $b2 f64) (param $c2 f64) (param $st f64) (param $rc2 f64) (param $eps f64)
    (call $adam_any (local.get $g) (local.get $p) (local.get $p) (local.get $m) (local.get $v) (local.get $n)
      (local.get $b1) (local.get $c1) (local.get $b2) (local.get $c2) (local.get $st) (local.get $rc2) (local.get $eps)))
)
