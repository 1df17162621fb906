;; call_ref traps on null, then calls through the funcref; return_call and
;; return_call_ref become Cranelift tail calls.
(module
  (type $t (func (param i32) (result i32)))
  (func $f (type $t) (local.get 0))
  (func (param (ref null $t) i32) (result i32) (call_ref $t (local.get 1) (local.get 0)))
  (func (param i32) (result i32) (return_call $f (local.get 0)))
  (func (param (ref $t) i32) (result i32) (return_call_ref $t (local.get 1) (local.get 0))))
