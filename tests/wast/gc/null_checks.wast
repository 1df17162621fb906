;; Null checks left out after `br_if` on `ref.is_null` apply to that reference in the
;; fall-through only: every other case still traps.
(module
  (type $c (struct (field i32) (field (ref null $c))))
  (func $make (param i32) (param (ref null $c)) (result (ref $c))
    (struct.new $c (local.get 0) (local.get 1)))
  (func $sum (param $l (ref null $c)) (result i32)
    (local $s i32)
    (block $done
      (loop $w
        (br_if $done (ref.is_null (local.get $l)))
        (local.set $s (i32.add (local.get $s) (struct.get $c 0 (local.get $l))))
        (local.set $l (struct.get $c 1 (local.get $l)))
        (br $w)))
    (local.get $s))
  ;; The test was of another reference.
  (func $other (param $a (ref null $c)) (param $b (ref null $c)) (result i32)
    (block $done
      (br_if $done (ref.is_null (local.get $a)))
      (return (struct.get $c 0 (local.get $b))))
    (i32.const -1))
  ;; The local was set to null after the test.
  (func $reassigned (param $a (ref null $c)) (result i32)
    (block $done
      (br_if $done (ref.is_null (local.get $a)))
      (local.set $a (ref.null $c))
      (return (struct.get $c 0 (local.get $a))))
    (i32.const -1))
  ;; The branch is taken when the reference is not null: the fall-through is the null case.
  (func $inverted (param $a (ref null $c)) (result i32)
    (block $done
      (br_if $done (i32.eqz (ref.is_null (local.get $a))))
      (return (struct.get $c 0 (local.get $a))))
    (i32.const -1))
  ;; Past the fall-through block (a join), the check is made again.
  (func $joined (param $a (ref null $c)) (param $skip i32) (result i32)
    (block $done
      (br_if $done (ref.is_null (local.get $a)))
      (drop (struct.get $c 0 (local.get $a))))
    (struct.get $c 0 (local.get $a)))
  (func (export "sum") (result i32)
    (call $sum (call $make (i32.const 1) (call $make (i32.const 2) (call $make (i32.const 3) (ref.null $c))))))
  (func (export "sum_empty") (result i32) (call $sum (ref.null $c)))
  (func (export "other") (result i32) (call $other (call $make (i32.const 1) (ref.null $c)) (ref.null $c)))
  (func (export "other_ok") (result i32) (call $other (ref.null $c) (ref.null $c)))
  (func (export "reassigned") (result i32) (call $reassigned (call $make (i32.const 1) (ref.null $c))))
  (func (export "inverted") (result i32) (call $inverted (ref.null $c)))
  (func (export "inverted_ok") (result i32) (call $inverted (call $make (i32.const 5) (ref.null $c))))
  (func (export "joined") (result i32) (call $joined (ref.null $c) (i32.const 0)))
  (func (export "joined_ok") (result i32) (call $joined (call $make (i32.const 7) (ref.null $c)) (i32.const 0)))
)
(assert_return (invoke "sum") (i32.const 6))
(assert_return (invoke "sum_empty") (i32.const 0))
(assert_trap (invoke "other") "null structure reference")
(assert_return (invoke "other_ok") (i32.const -1))
(assert_trap (invoke "reassigned") "null structure reference")
(assert_trap (invoke "inverted") "null structure reference")
(assert_return (invoke "inverted_ok") (i32.const -1))
(assert_trap (invoke "joined") "null structure reference")
(assert_return (invoke "joined_ok") (i32.const 7))
