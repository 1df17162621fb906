;; SIMD: the dot product of two 4 MiB arrays of i16 (i32x4.dot_i16x8_s over v128 loads),
;; 5,000 passes (each ends with the lanes summed); the data is written by a scalar loop.
(module
  (memory 128)
  ;; a[i] = i * 7 mod 251 - 125, b[i] = i * 13 mod 241 - 120, 2 Mi elements each.
  (func $init
    (local $i i32)
    (loop $fill
      (i32.store16 (i32.shl (local.get $i) (i32.const 1))
        (i32.sub (i32.rem_u (i32.mul (local.get $i) (i32.const 7)) (i32.const 251)) (i32.const 125)))
      (i32.store16 (i32.add (i32.const 0x400000) (i32.shl (local.get $i) (i32.const 1)))
        (i32.sub (i32.rem_u (i32.mul (local.get $i) (i32.const 13)) (i32.const 241)) (i32.const 120)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $fill (i32.lt_u (local.get $i) (i32.const 0x200000)))))
  (func $dot (result i64)
    (local $p i32) (local $acc v128)
    (loop $next
      (local.set $acc (i32x4.add (local.get $acc)
        (i32x4.dot_i16x8_s (v128.load (local.get $p))
                           (v128.load offset=0x400000 (local.get $p)))))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (br_if $next (i32.lt_u (local.get $p) (i32.const 0x400000))))
    (i64.add
      (i64.add (i64.extend_i32_s (i32x4.extract_lane 0 (local.get $acc)))
               (i64.extend_i32_s (i32x4.extract_lane 1 (local.get $acc))))
      (i64.add (i64.extend_i32_s (i32x4.extract_lane 2 (local.get $acc)))
               (i64.extend_i32_s (i32x4.extract_lane 3 (local.get $acc))))))
  (func (export "run") (param $passes i32) (result i64)
    (local $sum i64)
    (call $init)
    (loop $again
      (local.set $sum (i64.add (local.get $sum) (call $dot)))
      (br_if $again (local.tee $passes (i32.sub (local.get $passes) (i32.const 1)))))
    (local.get $sum)))
(assert_return (invoke "run" (i32.const 1)) (i64.const 170819))
(assert_return (invoke "run" (i32.const 5000)) (i64.const 854095000))
