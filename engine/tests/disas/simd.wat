;; SIMD: v128 values stay i8x16 between operators and are bitcast (little-endian) to the
;; lane type each operator works on; loads and stores with a bounds check only where the
;; memory needs one; a shuffle with an immediate mask; lane access with sign extension;
;; a widening load; a dot product built from widening multiplies and a pairwise add.
(module
  (memory 1)
  (func (export "add_i32x4") (param v128 v128) (result v128)
    (i32x4.add (local.get 0) (local.get 1)))
  (func (export "load_mul_store") (param i32)
    (v128.store offset=16 (local.get 0)
      (f32x4.mul (v128.load (local.get 0)) (v128.const f32x4 1 2 3 4))))
  (func (export "shuffle") (param v128 v128) (result v128)
    (i8x16.shuffle 0 17 2 19 4 21 6 23 8 25 10 27 12 29 14 31 (local.get 0) (local.get 1)))
  (func (export "lane") (param v128) (result i32)
    (i8x16.extract_lane_s 3 (local.get 0)))
  (func (export "extend") (param i32) (result v128)
    (v128.load8x8_u (local.get 0)))
  (func (export "dot") (param v128 v128) (result v128)
    (i32x4.dot_i16x8_s (local.get 0) (local.get 1))))
