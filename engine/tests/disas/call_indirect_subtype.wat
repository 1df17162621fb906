;; call_indirect against a final type is one compare; against a non-final type a mismatch
;; falls back to the supertype-chain check.
(module
  (type $final (func))
  (type $open (sub (func)))
  (table 1 funcref)
  (func (call_indirect (type $final) (i32.const 0)))
  (func (call_indirect (type $open) (i32.const 0))))
