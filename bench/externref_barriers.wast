;; Write barriers that always count: every table.set and global.set below replaces the
;; slot's reference with a different one (each table slot is written once per 16
;; iterations, alternately with $a and $b; the global alternately every iteration), so a
;; barrier's increment and decrement both run. (externref_churn.wast stores the value a
;; slot already holds, which barriers may skip.)
(module
  (table $t 16 externref)
  (global $a (mut externref) (ref.null extern))
  (global $b (mut externref) (ref.null extern))
  (global $g (mut externref) (ref.null extern))
  (func $id (param externref) (result externref) (local.get 0))
  (func (export "init") (param externref externref)
    (global.set $a (local.get 0))
    (global.set $b (local.get 1)))
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $x externref) (local $cnt i32)
    (loop $l
      (local.set $x
        (call $id
          (select (result externref) (global.get $a) (global.get $b)
            (i32.and (i32.shr_u (local.get $i) (i32.const 4)) (i32.const 1)))))
      (table.set $t (i32.and (local.get $i) (i32.const 15)) (local.get $x))
      (global.set $g
        (select (result externref) (global.get $a) (global.get $b)
          (i32.and (local.get $i) (i32.const 1))))
      (if (i32.eqz (ref.is_null
            (table.get $t (i32.and (i32.add (local.get $i) (i32.const 7)) (i32.const 15)))))
        (then (local.set $cnt (i32.add (local.get $cnt) (i32.const 1)))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                          (local.get $n))))
    (local.get $cnt))
)
(invoke "init" (ref.extern 1) (ref.extern 2))
;; Slots 7..15 are still null while read in the first nine iterations.
(assert_return (invoke "run" (i32.const 100000000)) (i32.const 99999991))
