;; Host-call benchmark without system calls: `_start` calls `args_sizes_get` 10,000,000
;; times, the cost of crossing from Wasm to a WASI function and back.
(module
  (import "wasi_snapshot_preview1" "args_sizes_get"
    (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (local $i i32)
    (loop $sizes
      (if (call $args_sizes_get (i32.const 32) (i32.const 36))
        (then (call $proc_exit (i32.const 2))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $sizes (i32.lt_u (local.get $i) (i32.const 10000000))))))
