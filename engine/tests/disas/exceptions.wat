;; A call inside try_table is a try_call whose exception table names the VMContext spill
;; and the handlers innermost first; a throw a handler of the same function catches is a
;; branch; one that escapes calls the ThrowRef builtin.
(module
  (tag $a (param i32))
  (tag $b)
  ;; Not inlined (it may trap), so the call stays a try_call.
  (func $f (param i32) (result i32) (i32.div_u (local.get 0) (i32.const 3)))
  (func (export "run") (param i32) (result i32)
    (block $outer
      (block $ha (result i32)
        (try_table (result i32) (catch $a $ha) (catch_all $outer)
          (if (local.get 0) (then (throw $a (i32.const 7))))
          (call $f (local.get 0))))
      (return))
    (throw $b)))
