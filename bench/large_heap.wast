;; A large live heap with churn and cycles: 1,500,000 live 64-byte nodes (about 100 MB)
;; held by one array, then 3,000,000 replacements of random nodes (each old node becomes
;; garbage) and, every tenth replacement, a two-node cycle dropped at once. The collector
;; must find the cycles among a heap that is mostly live, without running out of room.
(module
  (type $node (struct (field $val i64) (field $a i64) (field $b i64) (field $c i64)
                      (field $next (mut (ref null $node)))))
  (type $nodes (array (mut (ref null $node))))
  (global $live (mut (ref null $nodes)) (ref.null $nodes))
  (global $seed (mut i32) (i32.const 12345))
  (func $rand (result i32)
    (global.set $seed (i32.add (i32.mul (global.get $seed) (i32.const 1103515245)) (i32.const 12345)))
    (i32.shr_u (global.get $seed) (i32.const 1)))
  (func $node (param $v i64) (result (ref $node))
    (struct.new $node (local.get $v) (i64.const 1) (i64.const 2) (i64.const 3) (ref.null $node)))
  (func (export "run") (param $n i32) (param $churn i32) (result i64)
    (local $i i32) (local $slot i32) (local $a (ref null $node)) (local $b (ref null $node))
    (local $sum i64)
    (global.set $live (array.new_default $nodes (local.get $n)))
    (loop $fill
      (array.set $nodes (global.get $live) (local.get $i)
        (call $node (i64.extend_i32_u (local.get $i))))
      (br_if $fill (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.set $i (i32.const 0))
    (loop $churn
      (local.set $slot (i32.rem_u (call $rand) (local.get $n)))
      (array.set $nodes (global.get $live) (local.get $slot)
        (call $node (i64.extend_i32_u (local.get $slot))))
      (if (i32.eqz (i32.rem_u (local.get $i) (i32.const 10)))
        (then
          (local.set $a (call $node (i64.const -1)))
          (local.set $b (call $node (i64.const -2)))
          (struct.set $node $next (local.get $a) (local.get $b))
          (struct.set $node $next (local.get $b) (local.get $a))))
      (br_if $churn (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $churn))))
    ;; Every slot holds a node whose value is its index.
    (local.set $i (i32.const 0))
    (loop $sum
      (local.set $sum (i64.add (local.get $sum)
        (struct.get $node $val (array.get $nodes (global.get $live) (local.get $i)))))
      (br_if $sum (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $sum))
)
;; The sum of 0..1,500,000.
(assert_return (invoke "run" (i32.const 1500000) (i32.const 3000000)) (i64.const 1124999250000))
