;; The per-value loop of NumericStats.update() (numeric-stats.ts scanBlock / scanBlockWithStatus) in
;; WebAssembly: the same operations in the same order on IEEE doubles, so every sum, count and bin
;; comes out bit for bit as the JS loop's (test/drift-scan-kernel.test.ts checks it against the JS
;; path). Built with Debian's wabt: `node scripts/build-scan-kernel.ts` (wat2wasm, then the bytes as
;; base64 into scan-kernel-wasm.ts). Memory layout, set up by scan-kernel.ts:
;;   [0, 1 MiB)   log-bucket counters, u32 per (sign, key): index (sign << 17) + key
;;   acc          f64 × 9: in s1 s2 lt rt (ignored), in/out min max; out skipped zeros lowKey
;;   elsewhere    the batch's values (f64) and status bytes, the bins (f64 × 4 per bin), the
;;                binning's edges (f64), cell table (i32) and 65536 / width per bin (f64)
(module
  (memory (export "memory") 20)

  ;; ToInt32 of t = (x - a) · scale as the JS loop computes it (`| 0`): t is in [0, 2^31) or, when a
  ;; width or range under- or overflowed, +Infinity or NaN, which ToInt32 maps to 0 (a finite t is at
  ;; most the cell count or OFFSET_LEVELS, a rounding above).
  (func $toInt32 (param $t f64) (result i32)
    (if (result i32) (f64.lt (f64.abs (local.get $t)) (f64.const 0x1p31))
      (then (i32.trunc_f64_s (local.get $t)))
      (else (i32.const 0))))

  ;; The same, as a double: f64.trunc (one instruction) in place of two conversions.
  (func $truncated (param $t f64) (result f64)
    (select (f64.trunc (local.get $t)) (f64.const 0) (f64.lt (local.get $t) (f64.const 0x1p31))))

  ;; binning.ts searchCrowded: lower bound on (edges > x) from bin ~code to the next cell's bin
  (func $searchCrowded (param $edges i32) (param $cell i32) (param $c i32) (param $x f64) (param $code i32) (result i32)
    (local $lo i32) (local $hi i32) (local $mid i32)
    (local.set $lo (i32.xor (local.get $code) (i32.const -1)))
    (local.set $hi (i32.load (i32.add (local.get $cell) (i32.shl (i32.add (local.get $c) (i32.const 1)) (i32.const 2)))))
    (if (i32.lt_s (local.get $hi) (i32.const 0)) (then (local.set $hi (i32.xor (local.get $hi) (i32.const -1)))))
    (block $done
      (loop $search
        (br_if $done (i32.ge_s (local.get $lo) (local.get $hi)))
        (local.set $mid (i32.shr_s (i32.add (local.get $lo) (local.get $hi)) (i32.const 1)))
        (if (f64.ge (local.get $x) (f64.load (i32.add (local.get $edges) (i32.shl (local.get $mid) (i32.const 3)))))
          (then (local.set $lo (i32.add (local.get $mid) (i32.const 1))))
          (else (local.set $hi (local.get $mid))))
        (br $search)))
    (local.get $lo))

  ;; One block values[start..end): bins, min/max, and (sketch ≠ 0) log-bucket counts; the block's
  ;; sums of d = x − shift, d², left- and right-tail distances are returned through acc[0..3].
  ;; Cells whose status byte is not 0 (status ≠ 0) and non-finite values are skipped and counted
  ;; (acc[6]); the caller classifies them.
  (func (export "scan")
    (param $values i32) (param $status i32) (param $start i32) (param $end i32)
    (param $edges i32) (param $cell i32) (param $invW i32) (param $L i32) (param $scale f64) (param $shift f64)
    (param $bins i32) (param $acc i32) (param $sketch i32) (param $few i32)
    (local $i i32) (local $x f64) (local $d f64) (local $s1 f64) (local $s2 f64) (local $lt f64) (local $rt f64)
    (local $mn f64) (local $mx f64) (local $lo f64) (local $hi f64) (local $left f64) (local $t f64)
    (local $skipped i32) (local $zeros i32) (local $lowKey i32) (local $bits i32) (local $key i32)
    (local $c i32) (local $k i32) (local $j i32) (local $top i32)
    (local $xv v128) (local $m v128) (local $e0 v128) (local $e1 v128) (local $e2 v128) (local $e3 v128) (local $e4 v128) (local $e5 v128)
    ;; at most 12 edges (sketched binnings): bin = number of edges <= x, counted by six two-lane
    ;; comparisons against the edges padded with +Infinity, instead of the cell table's dependent loads
    (if (local.get $few)
      (then
        (local.set $e0 (v128.load (local.get $few)))
        (local.set $e1 (v128.load offset=16 (local.get $few)))
        (local.set $e2 (v128.load offset=32 (local.get $few)))
        (local.set $e3 (v128.load offset=48 (local.get $few)))
        (local.set $e4 (v128.load offset=64 (local.get $few)))
        (local.set $e5 (v128.load offset=80 (local.get $few)))))
    (local.set $mn (f64.load offset=32 (local.get $acc)))
    (local.set $mx (f64.load offset=40 (local.get $acc)))
    (local.set $lo (f64.load (local.get $edges)))
    (local.set $hi (f64.load (i32.add (local.get $edges) (i32.shl (i32.sub (local.get $L) (i32.const 1)) (i32.const 3)))))
    (local.set $top (i32.add (local.get $bins) (i32.shl (local.get $L) (i32.const 5))))
    (local.set $lowKey (i32.const 0x7ff00000)) ;; above every key (NO_KEY is reported as MAX_KEY + 1 by the caller)
    (local.set $i (local.get $start))
    (block $out
      (loop $next
        (br_if $out (i32.ge_u (local.get $i) (local.get $end)))
        (block $skip
          (block $take
            (local.set $x (f64.load (i32.add (local.get $values) (i32.shl (local.get $i) (i32.const 3)))))
            (if (local.get $status)
              (then (br_if $skip (i32.load8_u (i32.add (local.get $status) (local.get $i))))))
            (br_if $skip (f64.ne (f64.sub (local.get $x) (local.get $x)) (f64.const 0)))
            (br $take))
          ;; counted value
          (if (f64.lt (local.get $x) (local.get $mn)) (then (local.set $mn (local.get $x))))
          (if (f64.gt (local.get $x) (local.get $mx)) (then (local.set $mx (local.get $x))))
          (local.set $d (f64.sub (local.get $x) (local.get $shift)))
          (local.set $s1 (f64.add (local.get $s1) (local.get $d)))
          (local.set $s2 (f64.add (local.get $s2) (f64.mul (local.get $d) (local.get $d))))
          (if (local.get $sketch)
            (then
              (if (f64.eq (local.get $d) (f64.const 0))
                (then (local.set $zeros (i32.add (local.get $zeros) (i32.const 1))))
                (else
                  (local.set $bits (i32.wrap_i64 (i64.shr_u (i64.reinterpret_f64 (local.get $d)) (i64.const 32))))
                  ;; the counter index (sign << 17) + key is the high word's top 18 bits: sign, exponent, 6 mantissa bits
                  (local.set $j (i32.shr_u (local.get $bits) (i32.const 14)))
                  (local.set $key (i32.and (local.get $j) (i32.const 0x1ffff)))
                  (if (i32.gt_u (local.get $key) (i32.const 0x1ffbf)) ;; MAX_KEY: d overflowed to ±∞
                    (then
                      (local.set $key (i32.const 0x1ffbf))
                      (local.set $j (i32.or (i32.and (local.get $j) (i32.const 0x20000)) (i32.const 0x1ffbf)))))
                  (local.set $j (i32.shl (local.get $j) (i32.const 2)))
                  (i32.store (local.get $j) (i32.add (i32.load (local.get $j)) (i32.const 1)))
                  (if (i32.lt_u (local.get $key) (local.get $lowKey)) (then (local.set $lowKey (local.get $key))))))))
          (if (f64.lt (local.get $x) (local.get $lo))
            (then
              (f64.store (local.get $bins) (f64.add (f64.load (local.get $bins)) (f64.const 1)))
              (local.set $lt (f64.add (local.get $lt) (f64.sub (local.get $lo) (local.get $x)))))
            (else
              (if (f64.ge (local.get $x) (local.get $hi))
                (then
                  (f64.store (local.get $top) (f64.add (f64.load (local.get $top)) (f64.const 1)))
                  (if (f64.eq (local.get $x) (local.get $hi))
                    (then (f64.store offset=8 (local.get $top) (f64.add (f64.load offset=8 (local.get $top)) (f64.const 1))))
                    (else (local.set $rt (f64.add (local.get $rt) (f64.sub (local.get $x) (local.get $hi)))))))
                (else
                  (if (local.get $few)
                    (then
                      (local.set $xv (f64x2.splat (local.get $x)))
                      (local.set $m (i64x2.add
                        (i64x2.add (i64x2.add (f64x2.ge (local.get $xv) (local.get $e0)) (f64x2.ge (local.get $xv) (local.get $e1)))
                                   (i64x2.add (f64x2.ge (local.get $xv) (local.get $e2)) (f64x2.ge (local.get $xv) (local.get $e3))))
                        (i64x2.add (f64x2.ge (local.get $xv) (local.get $e4)) (f64x2.ge (local.get $xv) (local.get $e5)))))
                      ;; each lane counted −1 per edge <= x
                      (local.set $k (i32.sub (i32.const 0) (i32.wrap_i64 (i64.add (i64x2.extract_lane 0 (local.get $m)) (i64x2.extract_lane 1 (local.get $m)))))))
                    (else
                      (local.set $c (call $toInt32 (f64.mul (f64.sub (local.get $x) (local.get $lo)) (local.get $scale))))
                      (local.set $k (i32.load (i32.add (local.get $cell) (i32.shl (local.get $c) (i32.const 2)))))
                      (if (i32.lt_s (local.get $k) (i32.const 0))
                        (then (local.set $k (call $searchCrowded (local.get $edges) (local.get $cell) (local.get $c) (local.get $x) (local.get $k))))
                        (else
                          (if (f64.ge (local.get $x) (f64.load (i32.add (local.get $edges) (i32.shl (local.get $k) (i32.const 3)))))
                            (then (local.set $k (i32.add (local.get $k) (i32.const 1)))))))))
                  (local.set $left (f64.load (i32.add (local.get $edges) (i32.shl (i32.sub (local.get $k) (i32.const 1)) (i32.const 3)))))
                  (local.set $j (i32.add (local.get $bins) (i32.shl (local.get $k) (i32.const 5))))
                  (f64.store (local.get $j) (f64.add (f64.load (local.get $j)) (f64.const 1)))
                  (if (f64.eq (local.get $x) (local.get $left))
                    (then (f64.store offset=8 (local.get $j) (f64.add (f64.load offset=8 (local.get $j)) (f64.const 1))))
                    (else
                      (local.set $t (f64.mul (f64.sub (local.get $x) (local.get $left))
                                             (f64.load (i32.add (local.get $invW) (i32.shl (local.get $k) (i32.const 3))))))
                      (f64.store offset=16 (local.get $j)
                        (f64.add (f64.load offset=16 (local.get $j)) (call $truncated (local.get $t))))))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $next))
        ;; skipped: a status byte ≠ 0 or a non-finite value
        (local.set $skipped (i32.add (local.get $skipped) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (f64.store (local.get $acc) (local.get $s1))
    (f64.store offset=8 (local.get $acc) (local.get $s2))
    (f64.store offset=16 (local.get $acc) (local.get $lt))
    (f64.store offset=24 (local.get $acc) (local.get $rt))
    (f64.store offset=32 (local.get $acc) (local.get $mn))
    (f64.store offset=40 (local.get $acc) (local.get $mx))
    (f64.store offset=48 (local.get $acc) (f64.convert_i32_u (local.get $skipped)))
    (f64.store offset=56 (local.get $acc) (f64.convert_i32_u (local.get $zeros)))
    (f64.store offset=64 (local.get $acc) (f64.convert_i32_u (local.get $lowKey)))))
