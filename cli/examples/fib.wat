;; The README's example for `gcwasm run --invoke fib cli/examples/fib.wat 20`: the
;; Fibonacci numbers, counted through a GC list of them.
(module
  (type $cell (struct (field $n i64) (field $next (ref null $cell))))
  (func (export "fib") (param $k i32) (result i64)
    (local $a i64) (local $b i64) (local $list (ref null $cell))
    (local.set $b (i64.const 1))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $list (struct.new $cell (local.get $a) (local.get $list)))
        (local.set $b (i64.add (local.get $a) (local.tee $a (local.get $b))))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $next)))
    (local.get $a)))
