;; Exceptions as control flow, as an interpreter does: a loop whose steps end blocks by
;; throwing. A quarter of the steps throw from a callee (caught one frame up), a quarter
;; throw across three frames, and a quarter throw and catch in the same function; the
;; rest return normally.
(module
  (tag $break (param i32))
  (func $leaf (param i32) (result i32)
    (if (i32.eq (i32.and (local.get 0) (i32.const 3)) (i32.const 1))
      (then (throw $break (local.get 0))))
    (i32.add (local.get 0) (i32.const 1)))
  (func $mid (param i32) (result i32) (i32.add (call $leaf (local.get 0)) (i32.const 1)))
  (func $top (param i32) (result i32) (i32.add (call $mid (local.get 0)) (i32.const 1)))
  (func $step (param $i i32) (result i32)
    (if (i32.eq (i32.and (local.get $i) (i32.const 3)) (i32.const 0))
      (then (throw $break (local.get $i))))
    (i32.shl (local.get $i) (i32.const 1)))
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc)
        (block $caught (result i32)
          (try_table (result i32) (catch $break $caught)
            (if (result i32) (i32.and (local.get $i) (i32.const 1))
              ;; Odd steps: through three frames; a quarter of all steps throw.
              (then (call $top (local.get $i)))
              ;; Even steps: a call that may throw, then maybe a local throw.
              (else
                (if (i32.eq (i32.and (local.get $i) (i32.const 3)) (i32.const 2))
                  (then (throw $break (i32.const 7))))
                (call $step (local.get $i))))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc)))
(assert_return (invoke "run" (i32.const 1000)) (i32.const 377000))
(assert_return (invoke "run" (i32.const 4000000)) (i32.const -61312512))
