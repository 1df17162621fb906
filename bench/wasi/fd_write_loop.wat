;; Host-call benchmark with a system call: `_start` calls `fd_write` on stdout 1,000,000
;; times, one byte each. Run with stdout on /dev/null.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  ;; iovec at 0: one byte at 16.
  (data (i32.const 0) "\10\00\00\00\01\00\00\00")
  (data (i32.const 16) ".")
  (func (export "_start")
    (local $i i32)
    (loop $write
      (if (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))
        (then (call $proc_exit (i32.const 1))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $write (i32.lt_u (local.get $i) (i32.const 1000000))))))
