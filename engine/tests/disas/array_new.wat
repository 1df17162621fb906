;; array.new_default and array.new_fixed: small arrays are bump-allocated inline (the size
;; is checked against the inline limit at run time); the builtin is the cold slow path.
(module
  (type $bytes (array (mut i8)))
  (type $pair (array i64))
  (func (param i32) (result (ref $bytes))
    (array.new_default $bytes (local.get 0)))
  (func (param i64 i64) (result (ref $pair))
    (array.new_fixed $pair 2 (local.get 0) (local.get 1))))
