;; 64-bit tables (table64, part of the memory64 proposal): every table instruction and
;; call_indirect with i64 indices, i64 segment offsets, and bounds beyond 32 bits.
;; The pinned testsuite has no table64 scripts; these follow the proposal's semantics.

(module
  (type $ret (func (result i32)))
  (table $t i64 3 10 funcref)
  (table $e i64 2 externref)
  (func $one (result i32) (i32.const 1))
  (func $two (result i32) (i32.const 2))
  (elem (table $t) (i64.const 1) func $one $two)
  (elem $passive func $two $one)

  (func (export "size") (result i64) (table.size $t))
  (func (export "grow") (param i64) (result i64) (table.grow $t (ref.null func) (local.get 0)))
  (func (export "call") (param i64) (result i32) (call_indirect $t (type $ret) (local.get 0)))
  (func (export "is_null") (param i64) (result i32) (ref.is_null (table.get $t (local.get 0))))
  (func (export "clear") (param i64) (table.set $t (local.get 0) (ref.null func)))
  (func (export "fill") (param i64 i64) (table.fill $t (local.get 0) (ref.func $one) (local.get 1)))
  (func (export "copy") (param i64 i64 i64) (table.copy $t $t (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init") (param i64 i32 i32) (table.init $t $passive (local.get 0) (local.get 1) (local.get 2)))
  (func (export "set_extern") (param i64 externref) (table.set $e (local.get 0) (local.get 1)))
  (func (export "get_extern") (param i64) (result externref) (table.get $e (local.get 0)))
)

(assert_return (invoke "size") (i64.const 3))
(assert_return (invoke "call" (i64.const 1)) (i32.const 1))
(assert_return (invoke "call" (i64.const 2)) (i32.const 2))
(assert_trap (invoke "call" (i64.const 0)) "uninitialized element")
(assert_trap (invoke "call" (i64.const 3)) "undefined element")
(assert_trap (invoke "call" (i64.const 0x1_0000_0001)) "undefined element")
(assert_trap (invoke "call" (i64.const -1)) "undefined element")
(assert_return (invoke "is_null" (i64.const 0)) (i32.const 1))
(assert_trap (invoke "is_null" (i64.const 0x1_0000_0000)) "out of bounds table access")

(assert_return (invoke "grow" (i64.const 2)) (i64.const 3))
(assert_return (invoke "size") (i64.const 5))
(assert_return (invoke "grow" (i64.const 6)) (i64.const -1))
(assert_return (invoke "grow" (i64.const 0x1_0000_0000)) (i64.const -1))

(assert_return (invoke "fill" (i64.const 3) (i64.const 2)))
(assert_return (invoke "call" (i64.const 4)) (i32.const 1))
(assert_trap (invoke "fill" (i64.const 4) (i64.const 2)) "out of bounds table access")
(assert_trap (invoke "fill" (i64.const 0x1_0000_0000) (i64.const 0)) "out of bounds table access")

(assert_return (invoke "copy" (i64.const 0) (i64.const 2) (i64.const 1)))
(assert_return (invoke "call" (i64.const 0)) (i32.const 2))
(assert_trap (invoke "copy" (i64.const 0) (i64.const 0xFFFF_FFFF_FFFF_FFFF) (i64.const 2)) "out of bounds table access")

(assert_return (invoke "init" (i64.const 3) (i32.const 0) (i32.const 2)))
(assert_return (invoke "call" (i64.const 3)) (i32.const 2))
(assert_return (invoke "call" (i64.const 4)) (i32.const 1))
(assert_trap (invoke "init" (i64.const 0x1_0000_0003) (i32.const 0) (i32.const 1)) "out of bounds table access")

(assert_return (invoke "clear" (i64.const 1)))
(assert_trap (invoke "call" (i64.const 1)) "uninitialized element")

(assert_return (invoke "set_extern" (i64.const 1) (ref.extern 7)))
(assert_return (invoke "get_extern" (i64.const 1)) (ref.extern 7))
(assert_return (invoke "get_extern" (i64.const 0)) (ref.null extern))

;; A 64-bit table exported and imported: the index type is part of the table type.
(module $exporter (table (export "t") i64 1 funcref))
(register "exporter" $exporter)
(module (import "exporter" "t" (table i64 1 funcref)))
(assert_unlinkable
  (module (import "exporter" "t" (table 1 funcref)))
  "incompatible import type")

;; An active segment whose offset runs past the table fails instantiation.
(assert_trap
  (module (table i64 2 funcref) (func $f) (elem (i64.const 2) func $f))
  "out of bounds table access")

;; Index types are checked: an i32 index for a 64-bit table is invalid.
(assert_invalid
  (module (table i64 1 funcref) (func (drop (table.get 0 (i32.const 0)))))
  "type mismatch")
