;; The CSV decoder's common case in WebAssembly (csv-plain-rows.ts drives it): whole rows of plain
;; fields — unquoted decimals in number columns, unquoted ASCII text in string columns, and unquoted
;; fields nobody asked for. A number is what decimal.ts's scanDecimal takes on its fast path,
;; narrowed to at most 15 digits (an optional sign, digits, an optional point and digits) and parsed
;; the same way: the digits as an exact integer divided once by an exact power of ten, so the value
;; is bit for bit the JS decoder's. A text cell is left where it is: its start and end are written
;; for the JS side to make the string. Records end with LF, CRLF or CR, as in the JS decoder.
;; Anything else — a quote, a byte above 0x7f in a text cell, an exponent, an empty or long number,
;; a wrong field count, a blank line — stops the kernel before that row, and the JS decoder takes it.
;;
;; Memory (laid out by the host): 10^0..10^22 as f64 at address 0; per field an i32 at `kinds`
;; (0: skip it; f + 1: a number; -(f + 1): text; f is the field's index); the output at `out`: field
;; f's cell in row r at out + (f * n + r) * 8, a number's f64 or a text's start and end (two i32,
;; addresses in this memory); the input bytes wherever the host copied them.
(module
  (memory (export "memory") 1)
  ;; rows completed by the last call
  (global $rowsDone (export "rowsDone") (mut i32) (i32.const 0))
  ;; 1 when the last call stopped because a row ran into `end` (more bytes may complete it)
  (global $cut (export "cut") (mut i32) (i32.const 0))

  ;; Parses rows from p while a row starts before `limit`, up to n rows. Returns the position after
  ;; the last row parsed (the start of the row it stopped at).
  (func (export "rows") (param $p i32) (param $end i32) (param $limit i32) (param $delim i32) (param $nf i32) (param $kinds i32) (param $out i32) (param $n i32) (result i32)
    (local $row i32) (local $rowStart i32) (local $field i32) (local $kind i32) (local $c i32)
    (local $start i32) (local $stop i32) (local $neg i32) (local $m i64) (local $digits i32) (local $frac i32) (local $q i32) (local $v f64)
    (global.set $cut (i32.const 0))
    (block $done
      (loop $nextRow
        (br_if $done (i32.ge_u (local.get $row) (local.get $n)))
        (br_if $done (i32.ge_u (local.get $p) (local.get $limit)))
        (local.set $rowStart (local.get $p))
        (local.set $field (i32.const 0))
        (loop $nextField
          (local.set $kind (i32.load (i32.add (local.get $kinds) (i32.shl (local.get $field) (i32.const 2)))))
          (local.set $start (local.get $p))
          (if (i32.le_s (local.get $kind) (i32.const 0))
            (then
              ;; text, or a field nobody asked for: up to the next delimiter or line end (a quoted
              ;; one, and a text cell with a byte above 0x7f, go to JS)
              (if (i32.lt_u (local.get $p) (local.get $end)) (then
                (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 34)) (then (local.set $p (local.get $rowStart)) (br $done)))))
              (block $scanned (loop $scan
                (if (i32.ge_u (local.get $p) (local.get $end)) (then
                  (global.set $cut (i32.const 1)) (local.set $p (local.get $rowStart)) (br $done)))
                (local.set $c (i32.load8_u (local.get $p)))
                (br_if $scanned (i32.or (i32.eq (local.get $c) (local.get $delim)) (i32.or (i32.eq (local.get $c) (i32.const 10)) (i32.eq (local.get $c) (i32.const 13)))))
                (if (i32.and (i32.ge_u (local.get $c) (i32.const 0x80)) (i32.ne (local.get $kind) (i32.const 0))) (then
                  (local.set $p (local.get $rowStart)) (br $done)))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (br $scan))))
            (else
              (local.set $neg (i32.const 0))
              (if (i32.lt_u (local.get $p) (local.get $end)) (then
                (local.set $c (i32.load8_u (local.get $p)))
                (if (i32.eq (local.get $c) (i32.const 45))
                  (then (local.set $neg (i32.const 1)) (local.set $p (i32.add (local.get $p) (i32.const 1))))
                  (else (if (i32.eq (local.get $c) (i32.const 43)) (then (local.set $p (i32.add (local.get $p) (i32.const 1)))))))))
              (local.set $m (i64.const 0))
              (local.set $q (local.get $p))
              (block $intEnd (loop $int
                (br_if $intEnd (i32.ge_u (local.get $p) (local.get $end)))
                (local.set $c (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)))
                (br_if $intEnd (i32.gt_u (local.get $c) (i32.const 9)))
                (local.set $m (i64.add (i64.mul (local.get $m) (i64.const 10)) (i64.extend_i32_u (local.get $c))))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (br $int)))
              (local.set $digits (i32.sub (local.get $p) (local.get $q)))
              (local.set $frac (i32.const 0))
              (if (i32.lt_u (local.get $p) (local.get $end)) (then
                (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 46)) (then
                  (local.set $p (i32.add (local.get $p) (i32.const 1)))
                  (local.set $q (local.get $p))
                  (block $fracEnd (loop $fraction
                    (br_if $fracEnd (i32.ge_u (local.get $p) (local.get $end)))
                    (local.set $c (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)))
                    (br_if $fracEnd (i32.gt_u (local.get $c) (i32.const 9)))
                    (local.set $m (i64.add (i64.mul (local.get $m) (i64.const 10)) (i64.extend_i32_u (local.get $c))))
                    (local.set $p (i32.add (local.get $p) (i32.const 1)))
                    (br $fraction)))
                  (local.set $frac (i32.sub (local.get $p) (local.get $q)))
                  (local.set $digits (i32.add (local.get $digits) (local.get $frac)))))))
              (if (i32.ge_u (local.get $p) (local.get $end)) (then
                (global.set $cut (i32.const 1)) (local.set $p (local.get $rowStart)) (br $done)))
              ;; no digits, or more than 15 (the JS decoder's exact-integer bound is 2^53): JS takes the row
              (if (i32.or (i32.eqz (local.get $digits)) (i32.gt_u (local.get $digits) (i32.const 15))) (then
                (local.set $p (local.get $rowStart)) (br $done)))
              (local.set $v (f64.div (f64.convert_i64_u (local.get $m)) (f64.load (i32.shl (local.get $frac) (i32.const 3)))))
              (if (local.get $neg) (then (local.set $v (f64.neg (local.get $v)))))))
          ;; the byte after the field: a delimiter before the last field; after it LF, CRLF or a lone CR
          (local.set $stop (local.get $p))
          (local.set $c (i32.load8_u (local.get $p)))
          (local.set $field (i32.add (local.get $field) (i32.const 1)))
          (if (i32.lt_u (local.get $field) (local.get $nf))
            (then
              (if (i32.ne (local.get $c) (local.get $delim)) (then (local.set $p (local.get $rowStart)) (br $done))))
            (else
              (if (i32.ne (local.get $c) (i32.const 10)) (then
                (if (i32.ne (local.get $c) (i32.const 13)) (then (local.set $p (local.get $rowStart)) (br $done)))
                ;; a CR: is an LF next? (the resume offsets must not depend on where a chunk ends)
                (if (i32.ge_u (i32.add (local.get $p) (i32.const 1)) (local.get $end)) (then
                  (global.set $cut (i32.const 1)) (local.set $p (local.get $rowStart)) (br $done)))
                (if (i32.eq (i32.load8_u (i32.add (local.get $p) (i32.const 1))) (i32.const 10)) (then
                  (local.set $p (i32.add (local.get $p) (i32.const 1)))))))))
          (if (i32.gt_s (local.get $kind) (i32.const 0)) (then
            (f64.store
              (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (i32.sub (local.get $kind) (i32.const 1)) (local.get $n)) (local.get $row)) (i32.const 3)))
              (local.get $v))))
          (if (i32.lt_s (local.get $kind) (i32.const 0)) (then
            (local.set $q (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (i32.sub (i32.const -1) (local.get $kind)) (local.get $n)) (local.get $row)) (i32.const 3))))
            (i32.store (local.get $q) (local.get $start))
            (i32.store offset=4 (local.get $q) (local.get $stop))))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br_if $nextField (i32.lt_u (local.get $field) (local.get $nf))))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $nextRow)))
    (global.set $rowsDone (local.get $row))
    (local.get $p)))
