;; A string builder over i8 arrays: pieces of 1 to 64 bytes appended with array.copy into a
;; buffer that doubles when full (array.new_default + array.copy of everything so far), and
;; an i16 copy of each finished string: bulk copies of packed arrays, small and large.
(module
  (type $bytes (array (mut i8)))
  (type $chars (array (mut i16)))
  (data $text "the quick brown fox jumps over the lazy dog; pack my box with five")
  (func $build (param $pieces i32) (result (ref $bytes))
    (local $buf (ref $bytes)) (local $len i32) (local $piece (ref $bytes)) (local $n i32)
    (local $bigger (ref $bytes))
    (local.set $buf (array.new_default $bytes (i32.const 16)))
    (loop $l
      (local.set $n (i32.add (i32.const 1) (i32.rem_u (i32.mul (local.get $pieces) (i32.const 37)) (i32.const 64))))
      (local.set $piece (array.new_data $bytes $text (i32.const 0) (local.get $n)))
      (if (i32.gt_u (i32.add (local.get $len) (local.get $n)) (array.len (local.get $buf)))
        (then
          (local.set $bigger (array.new_default $bytes (i32.shl (array.len (local.get $buf)) (i32.const 1))))
          (array.copy $bytes $bytes (local.get $bigger) (i32.const 0) (local.get $buf) (i32.const 0) (local.get $len))
          (local.set $buf (local.get $bigger))))
      (array.copy $bytes $bytes (local.get $buf) (local.get $len) (local.get $piece) (i32.const 0) (local.get $n))
      (local.set $len (i32.add (local.get $len) (local.get $n)))
      (br_if $l (local.tee $pieces (i32.sub (local.get $pieces) (i32.const 1)))))
    (local.get $buf))
  ;; Builds `rounds` strings of `pieces` pieces; returns the sum of their last bytes' codes.
  (func (export "run") (param $rounds i32) (param $pieces i32) (result i32)
    (local $s i32) (local $str (ref $bytes)) (local $wide (ref $chars)) (local $i i32)
    (loop $r
      (local.set $str (call $build (local.get $pieces)))
      (local.set $wide (array.new_default $chars (i32.const 64)))
      (local.set $i (i32.const 0))
      (loop $c
        (array.set $chars (local.get $wide) (local.get $i)
          (array.get_u $bytes (local.get $str) (local.get $i)))
        (br_if $c (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 64))))
      (array.copy $chars $chars (local.get $wide) (i32.const 0) (local.get $wide) (i32.const 1) (i32.const 63))
      (local.set $s (i32.add (local.get $s) (array.get_u $chars (local.get $wide) (i32.const 0))))
      (br_if $r (local.tee $rounds (i32.sub (local.get $rounds) (i32.const 1)))))
    (local.get $s))
)
(assert_return (invoke "run" (i32.const 2000) (i32.const 2000)) (i32.const 208000))
