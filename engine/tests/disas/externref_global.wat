;; global.get is a plain load; global.set pays the write barrier.
(module
  (global $g (mut externref) (ref.null extern))
  (func (result externref) (global.get $g))
  (func (param externref) (global.set $g (local.get 0))))
