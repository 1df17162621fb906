;; config: epoch_interruption
;; Tiny leaf functions are inlined at direct calls, in and out of `try_table`; a function
;; that may trap (`i32.div_s`), loops or calls is not, and tail calls stay calls. The
;; inlined bodies have no epoch check of their own; the callers keep theirs.
(module
  (tag $e)
  (global $g (mut externref) (ref.null extern))
  (func $id (param externref) (result externref) (local.get 0))
  (func $set (param externref) (global.set $g (local.get 0)))
  (func $add3 (param i32 i32 i32) (result i32)
    (i32.add (i32.add (local.get 0) (local.get 1)) (local.get 2)))
  (func $div (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "caller") (param externref i32) (result i32)
    (call $set (call $id (local.get 0)))
    (block $h
      (try_table (catch $e $h)
        (local.set 1 (call $add3 (local.get 1) (local.get 1) (i32.const 1)))))
    (call $div (local.get 1) (i32.const 3)))
  (func (export "tail") (param i32 i32 i32) (result i32)
    (return_call $add3 (local.get 0) (local.get 1) (local.get 2)))
)
