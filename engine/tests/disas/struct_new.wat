;; struct.new: the object is bump-allocated inline; the builtin call is the cold slow path.
(module
  (type $point (struct (field i32) (field i64)))
  (func (param i32 i64) (result (ref $point))
    (struct.new $point (local.get 0) (local.get 1))))
