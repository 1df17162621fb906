;; sieve.wast on a 64-bit memory (memory64): the same loops with i64 addresses, so every
;; load and store carries the explicit bounds check a 64-bit memory needs. Compare with
;; sieve.wast for the check's cost.
(module
  (memory i64 256)
  (func (export "count") (param $n i64) (result i32)
    (local $i i64) (local $j i64) (local $c i32)
    (memory.fill (i64.const 0) (i32.const 1) (local.get $n))
    (i32.store8 (i64.const 0) (i32.const 0))
    (i32.store8 (i64.const 1) (i32.const 0))
    (local.set $i (i64.const 2))
    (block $done
      (loop $outer
        (br_if $done (i64.gt_u (i64.mul (local.get $i) (local.get $i)) (local.get $n)))
        (if (i32.load8_u (local.get $i))
          (then
            (local.set $j (i64.mul (local.get $i) (local.get $i)))
            (block $b
              (loop $inner
                (br_if $b (i64.ge_u (local.get $j) (local.get $n)))
                (i32.store8 (local.get $j) (i32.const 0))
                (local.set $j (i64.add (local.get $j) (local.get $i)))
                (br $inner)))))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $outer)))
    (local.set $i (i64.const 0))
    (block $d
      (loop $cnt
        (br_if $d (i64.ge_u (local.get $i) (local.get $n)))
        (local.set $c (i32.add (local.get $c) (i32.load8_u (local.get $i))))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $cnt)))
    (local.get $c))
  (func (export "run") (param $n i64) (param $reps i32) (result i32)
    (local $s i32)
    (loop $r
      (local.set $s (i32.add (local.get $s) (call 0 (local.get $n))))
      (br_if $r (local.tee $reps (i32.sub (local.get $reps) (i32.const 1)))))
    (local.get $s)))
(assert_return (invoke "count" (i64.const 16777216)) (i32.const 1077871))
(assert_return (invoke "run" (i64.const 16777216) (i32.const 30)) (i32.const 32336130))
