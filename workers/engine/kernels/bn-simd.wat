;; wasm SIMD bodies of the fused batch-norm → activation kernels (bn-simd.ts runs them on tfjs-wasm's heap;
;; compiled by scripts/build-bn-simd.mjs into bn-simd.generated.ts). Four adjacent units (columns) per call,
;; one f32x4 lane each, walking the B rows of a row-major [B, W] tensor with a byte stride. Per-unit constants
;; come in a parameter block $p of v128 slots (16 bytes each) that the caller fills:
;;   0 mu  1 sc  2 ga  3 be  4 l  5 inv = 1/(u − l)  6 u  7… the degree's coefficient vectors (see each function)
;; Arithmetic is float32 (the JS loops they replace use float64): differences are float32 rounding.
(module
  (import "env" "memory" (memory 1))

  ;; Bernstein forward: y = Σ_k cb_k t^k s^(n−k), t = clamp((x − l)·inv, 0, 1), s = 1 − t, x = (src − mu)·sc·ga + be,
  ;; cb_k = C(n,k)·c_k in slots 7 … 7+n. Horner in s with a running t^k: acc ← acc·s + cb_k·t^k (no division,
  ;; non-negative basis products as in the JS loops).
  (func (export "bern_fwd") (param $src i32) (param $y i32) (param $B i32) (param $stride i32) (param $p i32) (param $n i32)
    (local $r i32) (local $k i32) (local $q i32)
    (local $mu v128) (local $sc v128) (local $ga v128) (local $be v128) (local $l v128) (local $inv v128)
    (local $one v128) (local $zero v128) (local $t v128) (local $s v128) (local $tp v128) (local $acc v128)
    (local.set $mu (v128.load offset=0 (local.get $p)))
    (local.set $sc (v128.load offset=16 (local.get $p)))
    (local.set $ga (v128.load offset=32 (local.get $p)))
    (local.set $be (v128.load offset=48 (local.get $p)))
    (local.set $l (v128.load offset=64 (local.get $p)))
    (local.set $inv (v128.load offset=80 (local.get $p)))
    (local.set $one (f32x4.splat (f32.const 1)))
    (local.set $zero (f32x4.splat (f32.const 0)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $B)))
        (local.set $t
          (f32x4.mul
            (f32x4.sub
              (f32x4.add
                (f32x4.mul
                  (f32x4.mul (f32x4.sub (v128.load (local.get $src)) (local.get $mu)) (local.get $sc))
                  (local.get $ga))
                (local.get $be))
              (local.get $l))
            (local.get $inv)))
        (local.set $t (f32x4.min (f32x4.max (local.get $t) (local.get $zero)) (local.get $one)))
        (local.set $s (f32x4.sub (local.get $one) (local.get $t)))
        (local.set $acc (v128.load offset=112 (local.get $p)))
        (local.set $tp (local.get $one))
        (local.set $q (i32.add (local.get $p) (i32.const 128)))
        (local.set $k (i32.const 1))
        (block $kdone
          (loop $ks
            (br_if $kdone (i32.gt_u (local.get $k) (local.get $n)))
            (local.set $tp (f32x4.mul (local.get $tp) (local.get $t)))
            (local.set $acc
              (f32x4.add
                (f32x4.mul (local.get $acc) (local.get $s))
                (f32x4.mul (v128.load (local.get $q)) (local.get $tp))))
            (local.set $q (i32.add (local.get $q) (i32.const 16)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $ks)))
        (v128.store (local.get $y) (local.get $acc))
        (local.set $src (i32.add (local.get $src) (local.get $stride)))
        (local.set $y (i32.add (local.get $y) (local.get $stride)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  ;; Bernstein backward. Slots 7 … 7+n−1: d_k = n·C(n−1,k)·(c_{k+1} − c_k). $acc (n+5 slots, zeroed here):
  ;; a_0 … a_n = Σ dy·t^k s^(n−k) (times C(n,k) by the caller: ∂L/∂c_k), then Σ gx·(t − 1) (∂L/∂l), −Σ gx·t
  ;; (∂L/∂u), Σ gx, Σ gx·x̂ (x̂ = (src − mu)·sc). $sp: n+1 slots of scratch for the powers of s.
  ;; gx = dy·σ′(x) inside [l, u] (inclusive), 0 outside.
  (func (export "bern_bwd") (param $dy i32) (param $src i32) (param $gx i32) (param $B i32) (param $stride i32)
    (param $p i32) (param $n i32) (param $acc i32) (param $sp i32)
    (local $r i32) (local $k i32) (local $q i32) (local $a i32) (local $e i32)
    (local $mu v128) (local $sc v128) (local $ga v128) (local $be v128) (local $l v128) (local $inv v128) (local $u v128)
    (local $one v128) (local $zero v128) (local $g v128) (local $xh v128) (local $x v128) (local $t v128) (local $s v128)
    (local $tp v128) (local $pw v128) (local $ds v128) (local $gv v128)
    (local $aL v128) (local $aH v128) (local $aG v128) (local $aGX v128)
    (local.set $mu (v128.load offset=0 (local.get $p)))
    (local.set $sc (v128.load offset=16 (local.get $p)))
    (local.set $ga (v128.load offset=32 (local.get $p)))
    (local.set $be (v128.load offset=48 (local.get $p)))
    (local.set $l (v128.load offset=64 (local.get $p)))
    (local.set $inv (v128.load offset=80 (local.get $p)))
    (local.set $u (v128.load offset=96 (local.get $p)))
    (local.set $one (f32x4.splat (f32.const 1)))
    (local.set $zero (f32x4.splat (f32.const 0)))
    ;; zero a_0 … a_n
    (local.set $a (local.get $acc))
    (local.set $e (i32.add (local.get $acc) (i32.shl (i32.add (local.get $n) (i32.const 1)) (i32.const 4))))
    (block $z (loop $zl
      (br_if $z (i32.ge_u (local.get $a) (local.get $e)))
      (v128.store (local.get $a) (local.get $zero))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (br $zl)))
    (v128.store (local.get $sp) (local.get $one))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $B)))
        (local.set $g (v128.load (local.get $dy)))
        (local.set $xh (f32x4.mul (f32x4.sub (v128.load (local.get $src)) (local.get $mu)) (local.get $sc)))
        (local.set $x (f32x4.add (f32x4.mul (local.get $xh) (local.get $ga)) (local.get $be)))
        (local.set $t (f32x4.mul (f32x4.sub (local.get $x) (local.get $l)) (local.get $inv)))
        (local.set $t (f32x4.min (f32x4.max (local.get $t) (local.get $zero)) (local.get $one)))
        (local.set $s (f32x4.sub (local.get $one) (local.get $t)))
        ;; sp[j] = s^j, j = 1 … n
        (local.set $pw (local.get $one))
        (local.set $a (i32.add (local.get $sp) (i32.const 16)))
        (local.set $e (i32.add (local.get $sp) (i32.shl (i32.add (local.get $n) (i32.const 1)) (i32.const 4))))
        (block $pd (loop $pl
          (br_if $pd (i32.ge_u (local.get $a) (local.get $e)))
          (local.set $pw (f32x4.mul (local.get $pw) (local.get $s)))
          (v128.store (local.get $a) (local.get $pw))
          (local.set $a (i32.add (local.get $a) (i32.const 16)))
          (br $pl)))
        ;; k = 0 … n−1: a_k += g·t^k·s^(n−k); σ′ sum += d_k·t^k·s^(n−1−k)
        (local.set $tp (local.get $one))
        (local.set $ds (local.get $zero))
        (local.set $a (local.get $acc))
        (local.set $q (i32.add (local.get $p) (i32.const 112)))
        ;; $e walks sp down from s^n
        (local.set $e (i32.add (local.get $sp) (i32.shl (local.get $n) (i32.const 4))))
        (local.set $k (i32.const 0))
        (block $kdone
          (loop $ks
            (br_if $kdone (i32.ge_u (local.get $k) (local.get $n)))
            (v128.store (local.get $a)
              (f32x4.add (v128.load (local.get $a))
                (f32x4.mul (local.get $g) (f32x4.mul (local.get $tp) (v128.load (local.get $e))))))
            (local.set $ds
              (f32x4.add (local.get $ds)
                (f32x4.mul (v128.load (local.get $q)) (f32x4.mul (local.get $tp) (v128.load offset=0 (i32.sub (local.get $e) (i32.const 16)))))))
            (local.set $tp (f32x4.mul (local.get $tp) (local.get $t)))
            (local.set $a (i32.add (local.get $a) (i32.const 16)))
            (local.set $q (i32.add (local.get $q) (i32.const 16)))
            (local.set $e (i32.sub (local.get $e) (i32.const 16)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $ks)))
        ;; a_n += g·t^n
        (v128.store (local.get $a) (f32x4.add (v128.load (local.get $a)) (f32x4.mul (local.get $g) (local.get $tp))))
        (local.set $gv
          (v128.and
            (v128.and (f32x4.ge (local.get $x) (local.get $l)) (f32x4.le (local.get $x) (local.get $u)))
            (f32x4.mul (f32x4.mul (local.get $g) (local.get $ds)) (local.get $inv))))
        (v128.store (local.get $gx) (local.get $gv))
        (local.set $aL (f32x4.add (local.get $aL) (f32x4.mul (local.get $gv) (f32x4.sub (local.get $t) (local.get $one)))))
        (local.set $aH (f32x4.sub (local.get $aH) (f32x4.mul (local.get $gv) (local.get $t))))
        (local.set $aG (f32x4.add (local.get $aG) (local.get $gv)))
        (local.set $aGX (f32x4.add (local.get $aGX) (f32x4.mul (local.get $gv) (local.get $xh))))
        (local.set $dy (i32.add (local.get $dy) (local.get $stride)))
        (local.set $src (i32.add (local.get $src) (local.get $stride)))
        (local.set $gx (i32.add (local.get $gx) (local.get $stride)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))
    (local.set $a (i32.add (local.get $acc) (i32.shl (i32.add (local.get $n) (i32.const 1)) (i32.const 4))))
    (v128.store offset=0 (local.get $a) (local.get $aL))
    (v128.store offset=16 (local.get $a) (local.get $aH))
    (v128.store offset=32 (local.get $a) (local.get $aG))
    (v128.store offset=48 (local.get $a) (local.get $aGX)))

  ;; Batch-norm backward's update, in place: g ← k·(g − mg − (h − mu)·sc·mgx). Slots: 0 mu 1 sc 7 k 8 mg 9 mgx.
  (func (export "bn_apply") (param $g i32) (param $h i32) (param $B i32) (param $stride i32) (param $p i32)
    (local $r i32) (local $mu v128) (local $sc v128) (local $k v128) (local $mg v128) (local $mgx v128)
    (local.set $mu (v128.load offset=0 (local.get $p)))
    (local.set $sc (v128.load offset=16 (local.get $p)))
    (local.set $k (v128.load offset=112 (local.get $p)))
    (local.set $mg (v128.load offset=128 (local.get $p)))
    (local.set $mgx (v128.load offset=144 (local.get $p)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $B)))
        (v128.store (local.get $g)
          (f32x4.mul (local.get $k)
            (f32x4.sub
              (f32x4.sub (v128.load (local.get $g)) (local.get $mg))
              (f32x4.mul (f32x4.mul (f32x4.sub (v128.load (local.get $h)) (local.get $mu)) (local.get $sc)) (local.get $mgx)))))
        (local.set $g (i32.add (local.get $g) (local.get $stride)))
        (local.set $h (i32.add (local.get $h) (local.get $stride)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  ;; Batch norm → ReLU forward: x = (h − mu)·sc, y = (x + |x|)/2. Slots 0 mu 1 sc.
  (func (export "bnrelu_fwd") (param $h i32) (param $y i32) (param $B i32) (param $stride i32) (param $p i32)
    (local $r i32) (local $mu v128) (local $sc v128) (local $half v128) (local $x v128)
    (local.set $mu (v128.load offset=0 (local.get $p)))
    (local.set $sc (v128.load offset=16 (local.get $p)))
    (local.set $half (f32x4.splat (f32.const 0.5)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $B)))
        (local.set $x (f32x4.mul (f32x4.sub (v128.load (local.get $h)) (local.get $mu)) (local.get $sc)))
        (v128.store (local.get $y) (f32x4.mul (f32x4.add (local.get $x) (f32x4.abs (local.get $x))) (local.get $half)))
        (local.set $h (i32.add (local.get $h) (local.get $stride)))
        (local.set $y (i32.add (local.get $y) (local.get $stride)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  ;; Batch norm → ReLU backward, first pass: g = dy·[x > 0] into $g, and Σ g, Σ g·x into slots 7, 8 of $p.
  (func (export "bnrelu_bwd") (param $dy i32) (param $h i32) (param $g i32) (param $B i32) (param $stride i32) (param $p i32)
    (local $r i32) (local $mu v128) (local $sc v128) (local $x v128) (local $gv v128) (local $sg v128) (local $sgx v128)
    (local.set $mu (v128.load offset=0 (local.get $p)))
    (local.set $sc (v128.load offset=16 (local.get $p)))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $B)))
        (local.set $x (f32x4.mul (f32x4.sub (v128.load (local.get $h)) (local.get $mu)) (local.get $sc)))
        (local.set $gv (v128.and (f32x4.gt (local.get $x) (f32x4.splat (f32.const 0))) (v128.load (local.get $dy))))
        (v128.store (local.get $g) (local.get $gv))
        (local.set $sg (f32x4.add (local.get $sg) (local.get $gv)))
        (local.set $sgx (f32x4.add (local.get $sgx) (f32x4.mul (local.get $gv) (local.get $x))))
        (local.set $dy (i32.add (local.get $dy) (local.get $stride)))
        (local.set $h (i32.add (local.get $h) (local.get $stride)))
        (local.set $g (i32.add (local.get $g) (local.get $stride)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))
    (v128.store offset=112 (local.get $p) (local.get $sg))
    (v128.store offset=128 (local.get $p) (local.get $sgx)))

  ;; Per-unit Σ src and Σ src² over the rows, in float64 (each lane's sum in row order, as the JS loops add):
;; $out receives 4 f64x2 (Σ of units 0–1, 2–3, then Σ² of units 0–1, 2–3). $sq = 0: sums only.
  (func (export "col_sums") (param $src i32) (param $B i32) (param $stride i32) (param $out i32) (param $sq i32)
    (local $r i32) (local $v v128) (local $lo v128) (local $hi v128)
    (local $s1a v128) (local $s1b v128) (local $s2a v128) (local $s2b v128)
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $r) (local.get $B)))
        (local.set $v (v128.load (local.get $src)))
        (local.set $lo (f64x2.promote_low_f32x4 (local.get $v)))
        (local.set $hi (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
        (local.set $s1a (f64x2.add (local.get $s1a) (local.get $lo)))
        (local.set $s1b (f64x2.add (local.get $s1b) (local.get $hi)))
        (if (local.get $sq)
          (then
            (local.set $s2a (f64x2.add (local.get $s2a) (f64x2.mul (local.get $lo) (local.get $lo))))
            (local.set $s2b (f64x2.add (local.get $s2b) (f64x2.mul (local.get $hi) (local.get $hi))))))
        (local.set $src (i32.add (local.get $src) (local.get $stride)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))
    (v128.store offset=0 (local.get $out) (local.get $s1a))
    (v128.store offset=16 (local.get $out) (local.get $s1b))
    (v128.store offset=32 (local.get $out) (local.get $s2a))
    (v128.store offset=48 (local.get $out) (local.get $s2b)))

  ;; The effective coefficients (coeffs.ts): c_0 = a, c_k = c_{k−1} + softplus(θ_k) + ε, and the sigmoids of their backward.
  ;; softplus and sigmoid are float32 here, 4 lanes (≤ 2 ulp of the float64 JS loop's values, tested); the running
  ;; sums stay float64 as in the JS loop. exp: Cephes expf (range reduction by ln 2, degree-5 minimax); log1p:
  ;; Cephes logf on u = 1 + y with the rounding of u corrected, y ∈ [0, 1].

  ;; exp(x) for x ≤ 0; 0 below −87.3 (where 2^k would leave the normal range).
  (func $exp_nonpos (param $x v128) (result v128)
    (local $k v128) (local $r v128) (local $p v128) (local $z v128)
    (local.set $k (f32x4.nearest (f32x4.mul (local.get $x) (v128.const f32x4 1.44269504 1.44269504 1.44269504 1.44269504))))
    (local.set $r (f32x4.sub (local.get $x) (f32x4.mul (local.get $k) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))))
    (local.set $r (f32x4.sub (local.get $r) (f32x4.mul (local.get $k) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (local.set $z (f32x4.mul (local.get $r) (local.get $r)))
    (local.set $p (v128.const f32x4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4 1.9875691500e-4))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3 1.3981999507e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3 8.3334519073e-3)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2 4.1665795894e-2)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1 1.6666665459e-1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r)) (v128.const f32x4 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1 5.0000001201e-1)))
    (local.set $p (f32x4.add (f32x4.add (f32x4.mul (local.get $p) (local.get $z)) (local.get $r)) (v128.const f32x4 1 1 1 1)))
    ;; × 2^k: k + 127 into the exponent field
    (local.set $p (f32x4.mul (local.get $p)
      (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $k)) (v128.const i32x4 127 127 127 127)) (i32.const 23))))
    (v128.and (local.get $p) (f32x4.ge (local.get $x) (v128.const f32x4 -87.3 -87.3 -87.3 -87.3))))

  ;; log1p(y) for y ∈ [0, 1]: u = 1 + y = 2^e·m, m ∈ [√½, √2), log u = e·ln 2 + log m, plus (y − (u − 1))/u.
  (func $log1p_unit (param $y v128) (result v128)
    (local $u v128) (local $big v128) (local $f v128) (local $e v128) (local $z v128) (local $p v128)
    (local.set $u (f32x4.add (local.get $y) (v128.const f32x4 1 1 1 1)))
    (local.set $big (f32x4.gt (local.get $u) (v128.const f32x4 1.41421356 1.41421356 1.41421356 1.41421356)))
    ;; f = m − 1, exact (Sterbenz): u − 1 on [1, √2], u/2 − 1 above
    (local.set $f (f32x4.sub
      (v128.bitselect (f32x4.mul (local.get $u) (v128.const f32x4 0.5 0.5 0.5 0.5)) (local.get $u) (local.get $big))
      (v128.const f32x4 1 1 1 1)))
    (local.set $e (v128.and (local.get $big) (v128.const f32x4 1 1 1 1)))
    (local.set $z (f32x4.mul (local.get $f) (local.get $f)))
    (local.set $p (v128.const f32x4 7.0376836292e-2 7.0376836292e-2 7.0376836292e-2 7.0376836292e-2))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $f)) (v128.const f32x4 -1.1514610310e-1 -1.1514610310e-1 -1.1514610310e-1 -1.1514610310e-1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $f)) (v128.const f32x4 1.1676998740e-1 1.1676998740e-1 1.1676998740e-1 1.1676998740e-1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $f)) (v128.const f32x4 -1.2420140846e-1 -1.2420140846e-1 -1.2420140846e-1 -1.2420140846e-1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $f)) (v128.const f32x4 1.4249322787e-1 1.4249322787e-1 1.4249322787e-1 1.4249322787e-1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $f)) (v128.const f32x4 -1.6668057665e-1 -1.6668057665e-1 -1.6668057665e-1 -1.6668057665e-1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $f)) (v128.const f32x4 2.0000714765e-1 2.0000714765e-1 2.0000714765e-1 2.0000714765e-1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $f)) (v128.const f32x4 -2.4999993993e-1 -2.4999993993e-1 -2.4999993993e-1 -2.4999993993e-1)))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $f)) (v128.const f32x4 3.3333331174e-1 3.3333331174e-1 3.3333331174e-1 3.3333331174e-1)))
    (local.set $p (f32x4.mul (f32x4.mul (local.get $p) (local.get $f)) (local.get $z)))
    (local.set $p (f32x4.add (local.get $p) (f32x4.mul (local.get $e) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))))
    (local.set $p (f32x4.sub (local.get $p) (f32x4.mul (local.get $z) (v128.const f32x4 0.5 0.5 0.5 0.5))))
    (local.set $p (f32x4.add (f32x4.add (local.get $f) (local.get $p)) (f32x4.mul (local.get $e) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))))
    (f32x4.add (local.get $p)
      (f32x4.div (f32x4.sub (local.get $y) (f32x4.sub (local.get $u) (v128.const f32x4 1 1 1 1))) (local.get $u))))

  ;; softplus(x) = max(x, 0) + log1p(exp(−|x|))
  (func $softplus4 (param $x v128) (result v128)
    (f32x4.add (f32x4.max (local.get $x) (v128.const f32x4 0 0 0 0))
      (call $log1p_unit (call $exp_nonpos (f32x4.neg (f32x4.abs (local.get $x)))))))

  ;; sigmoid(x) = 1/(1 + e) for x ≥ 0, e/(1 + e) below, e = exp(−|x|); NaN stays NaN
  (func $sigmoid4 (param $x v128) (result v128)
    (local $e v128) (local $s v128)
    (local.set $e (call $exp_nonpos (f32x4.neg (f32x4.abs (local.get $x)))))
    (local.set $s (f32x4.div (v128.const f32x4 1 1 1 1) (f32x4.add (local.get $e) (v128.const f32x4 1 1 1 1))))
    (local.set $s (v128.bitselect (local.get $s) (f32x4.mul (local.get $e) (local.get $s))
      (f32x4.ge (local.get $x) (v128.const f32x4 0 0 0 0))))
    ;; the comparisons above would turn NaN into a number
    (v128.bitselect (local.get $x) (local.get $s) (f32x4.ne (local.get $x) (local.get $x))))

  ;; dst[i] = f(src[i]) for i < count, f = softplus ($which 0) or sigmoid (1).
  (func $map (param $src i32) (param $dst i32) (param $count i32) (param $which i32)
    (local $i i32) (local $v v128)
    (block $done
      (loop $quads
        (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $count)))
        (local.set $v (v128.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2)))))
        (v128.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 2)))
          (if (result v128) (local.get $which) (then (call $sigmoid4 (local.get $v))) (else (call $softplus4 (local.get $v)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $quads)))
    (block $end
      (loop $tail
        (br_if $end (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $v (f32x4.splat (f32.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2))))))
        (f32.store (i32.add (local.get $dst) (i32.shl (local.get $i) (i32.const 2)))
          (f32x4.extract_lane 0
            (if (result v128) (local.get $which) (then (call $sigmoid4 (local.get $v))) (else (call $softplus4 (local.get $v))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail))))

  ;; a [W], θ [W, n] → c [W, n+1]. The softplus values go first into c's last W·n slots; unit w's sums then
  ;; overwrite only slots at or below the one being read (w + 1 ≤ W), so nothing unread is overwritten.
  (func (export "coeffs_fwd") (param $a i32) (param $th i32) (param $c i32) (param $W i32) (param $n i32) (param $eps f64)
    (local $w i32) (local $k i32) (local $acc f64) (local $sp i32)
    (local.set $sp (i32.add (local.get $c) (i32.shl (local.get $W) (i32.const 2))))
    (call $map (local.get $th) (local.get $sp) (i32.mul (local.get $W) (local.get $n)) (i32.const 0))
    (block $done
      (loop $units
        (br_if $done (i32.ge_u (local.get $w) (local.get $W)))
        (local.set $acc (f64.promote_f32 (f32.load (local.get $a))))
        (f32.store (local.get $c) (f32.demote_f64 (local.get $acc)))
        (local.set $k (i32.const 0))
        (block $kdone
          (loop $ks
            (br_if $kdone (i32.ge_u (local.get $k) (local.get $n)))
            (local.set $acc (f64.add (local.get $acc)
              (f64.add (f64.promote_f32 (f32.load (local.get $sp))) (local.get $eps))))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (f32.store (local.get $c) (f32.demote_f64 (local.get $acc)))
            (local.set $sp (i32.add (local.get $sp) (i32.const 4)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $ks)))
        (local.set $c (i32.add (local.get $c) (i32.const 4)))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (local.set $w (i32.add (local.get $w) (i32.const 1)))
        (br $units))))

  ;; dst[i] = sigmoid(src[i]) for i < count: the coefficients' backward (coeffs.ts) multiplies them by its sums.
  (func (export "sigmoid_map") (param $src i32) (param $dst i32) (param $count i32)
    (call $map (local.get $src) (local.get $dst) (local.get $count) (i32.const 1)))
)
