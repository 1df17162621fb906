;; A reference live across a call: declared for the stack map at that call.
(module
  (import "host" "f" (func $f))
  (func (param externref) (result externref) (call $f) (local.get 0)))
