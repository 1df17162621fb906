;; config: consume_fuel epoch_interruption
;; Fuel and epoch checks at the function entry and the loop header; the fuel variable is
;; written back around the call and at the return.
(module
  (func $callee)
  (func (export "count") (param $n i32) (result i32)
    (loop $l
      (call $callee)
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (local.get $n)))
