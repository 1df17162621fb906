//! Bulk array operations: `array.copy` of references (counted a chunk at a time) in both
//! directions within one array and between two, over more than one chunk, and
//! `array.new_data` / `array.init_data` (one copy of the segment's bytes). Checked by
//! contents, and by counts: once the arrays are gone, a collection frees every object.

use engine::Config;
use tests::instantiate_with_gc;

const MODULE: &str = r#"(module
  (import "host" "gc" (func $gc))
  (type $box (struct (field i32)))
  (type $boxes (array (mut (ref null $box))))
  (type $bytes (array (mut i8)))
  (data $d "\01\02\03\04\05\06\07\08")
  (global $a (mut (ref null $boxes)) (ref.null $boxes))
  (global $b (mut (ref null $boxes)) (ref.null $boxes))
  ;; $a[i] = box(i) for i < n; $b: n nulls.
  (func (export "fill") (param $n i32) (local $i i32)
    (global.set $a (array.new_default $boxes (local.get $n)))
    (global.set $b (array.new_default $boxes (local.get $n)))
    (loop $l
      (array.set $boxes (global.get $a) (local.get $i) (struct.new $box (local.get $i)))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                          (local.get $n)))))
  (func (export "copy_within") (param $dst i32) (param $src i32) (param $len i32)
    (array.copy $boxes $boxes (global.get $a) (local.get $dst)
                              (global.get $a) (local.get $src) (local.get $len)))
  (func (export "copy_across") (param $dst i32) (param $src i32) (param $len i32)
    (array.copy $boxes $boxes (global.get $b) (local.get $dst)
                              (global.get $a) (local.get $src) (local.get $len)))
  ;; The id in $a[i] ($b[i] if from_b), -1 for null.
  (func (export "id") (param $from_b i32) (param $i i32) (result i32) (local $x (ref null $box))
    (local.set $x (array.get $boxes
      (if (result (ref null $boxes)) (local.get $from_b)
        (then (global.get $b)) (else (global.get $a))) (local.get $i)))
    (if (result i32) (ref.is_null (local.get $x)) (then (i32.const -1))
      (else (struct.get $box 0 (local.get $x)))))
  (func (export "clear") (global.set $a (ref.null $boxes)) (global.set $b (ref.null $boxes)))
  ;; Sum of array.new_data's bytes 2..7 after array.init_data rewrote bytes 0..2 with 7, 8.
  (func (export "bytes") (result i32) (local $x (ref $bytes)) (local $s i32) (local $i i32)
    (local.set $x (array.new_data $bytes $d (i32.const 0) (i32.const 8)))
    (array.init_data $bytes $d (local.get $x) (i32.const 0) (i32.const 6) (i32.const 2))
    (loop $l
      (local.set $s (i32.add (local.get $s) (array.get_u $bytes (local.get $x) (local.get $i))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 8))))
    (local.get $s)))"#;

#[test]
fn bulk_reference_copies_keep_contents_and_counts() {
    for stress in [false, true] {
        let mut config = Config::new();
        config.gc_stress(stress);
        let (mut store, instance) = instantiate_with_gc(&config, MODULE).unwrap();
        let n = 3000;
        let f = |store: &mut engine::Store<()>, name: &str| {
            instance
                .get_typed_func::<(i32, i32, i32), ()>(&mut *store, name)
                .unwrap()
        };
        let id = instance
            .get_typed_func::<(i32, i32), i32>(&mut store, "id")
            .unwrap();
        instance
            .get_typed_func::<i32, ()>(&mut store, "fill")
            .unwrap()
            .call(&mut store, n)
            .unwrap();
        // Up within the array, over three chunks: a[500..2800) = old a[0..2300).
        f(&mut store, "copy_within")
            .call(&mut store, (500, 0, 2300))
            .unwrap();
        for i in [0, 499, 500, 1523, 2799, 2800, 2999] {
            let expected = if (500..2800).contains(&i) { i - 500 } else { i };
            assert_eq!(id.call(&mut store, (0, i)).unwrap(), expected, "up, a[{i}]");
        }
        // Down: a[0..2000) = a[1000..3000).
        f(&mut store, "copy_within")
            .call(&mut store, (0, 1000, 2000))
            .unwrap();
        assert_eq!(id.call(&mut store, (0, 0)).unwrap(), 500);
        assert_eq!(id.call(&mut store, (0, 1999)).unwrap(), 2999);
        // Across: b[100..2100) = a[0..2000).
        f(&mut store, "copy_across")
            .call(&mut store, (100, 0, 2000))
            .unwrap();
        assert_eq!(id.call(&mut store, (1, 99)).unwrap(), -1);
        assert_eq!(id.call(&mut store, (1, 100)).unwrap(), 500);
        assert_eq!(id.call(&mut store, (1, 2099)).unwrap(), 2999);
        store.gc();
        // Objects: the two arrays plus the boxes still referenced.
        let live = store.gc_live_objects();
        assert!(live > 2 && live <= 2 + n as usize, "{live}");
        instance
            .get_typed_func::<(), ()>(&mut store, "clear")
            .unwrap()
            .call(&mut store, ())
            .unwrap();
        store.gc();
        assert_eq!(
            store.gc_live_objects(),
            0,
            "stress {stress}: counts balanced"
        );
        let bytes = instance
            .get_typed_func::<(), i32>(&mut store, "bytes")
            .unwrap();
        assert_eq!(
            bytes.call(&mut store, ()).unwrap(),
            7 + 8 + 3 + 4 + 5 + 6 + 7 + 8
        );
    }
}
