;; Octane's splay shape: a splay tree of 8,000 nodes, each with a small payload (a struct
;; holding an array of three numbers), under churn: every step inserts a node with a fresh
;; pseudo-random key and removes the node with the next key after it, so the tree keeps
;; its size while old nodes and payloads become garbage.
(module
  (type $payload (array (mut i32)))
  (type $data (struct (field $array (ref $payload)) (field $tag i32)))
  (type $node (struct (field $key (mut i32)) (field $value (mut (ref null $data)))
                      (field $left (mut (ref null $node))) (field $right (mut (ref null $node)))))
  (global $root (mut (ref null $node)) (ref.null $node))
  (global $seed (mut i32) (i32.const 49734321))
  (func $rand (result i32)
    (global.set $seed (i32.add (i32.mul (global.get $seed) (i32.const 1103515245)) (i32.const 12345)))
    (i32.shr_u (global.get $seed) (i32.const 1)))
  (func $payload (param $k i32) (result (ref $data))
    (struct.new $data (array.new_fixed $payload 3 (local.get $k) (i32.const 1) (i32.const 2))
                      (local.get $k)))
  ;; Top-down splay of the tree at $root around $key.
  (func $splay (param $key i32)
    (local $t (ref null $node)) (local $l (ref null $node)) (local $r (ref null $node))
    (local $y (ref null $node)) (local $dummy (ref $node))
    (if (ref.is_null (global.get $root)) (then (return)))
    (local.set $dummy (struct.new $node (i32.const 0) (ref.null $data) (ref.null $node) (ref.null $node)))
    (local.set $l (local.get $dummy))
    (local.set $r (local.get $dummy))
    (local.set $t (global.get $root))
    (block $done
      (loop $loop
        (if (i32.lt_s (local.get $key) (struct.get $node $key (local.get $t)))
          (then
            (br_if $done (ref.is_null (struct.get $node $left (local.get $t))))
            (if (i32.lt_s (local.get $key) (struct.get $node $key (struct.get $node $left (local.get $t))))
              (then ;; rotate right
                (local.set $y (struct.get $node $left (local.get $t)))
                (struct.set $node $left (local.get $t) (struct.get $node $right (local.get $y)))
                (struct.set $node $right (local.get $y) (local.get $t))
                (local.set $t (local.get $y))
                (br_if $done (ref.is_null (struct.get $node $left (local.get $t))))))
            ;; link right
            (struct.set $node $left (local.get $r) (local.get $t))
            (local.set $r (local.get $t))
            (local.set $t (struct.get $node $left (local.get $t)))
            (br $loop)))
        (if (i32.gt_s (local.get $key) (struct.get $node $key (local.get $t)))
          (then
            (br_if $done (ref.is_null (struct.get $node $right (local.get $t))))
            (if (i32.gt_s (local.get $key) (struct.get $node $key (struct.get $node $right (local.get $t))))
              (then ;; rotate left
                (local.set $y (struct.get $node $right (local.get $t)))
                (struct.set $node $right (local.get $t) (struct.get $node $left (local.get $y)))
                (struct.set $node $left (local.get $y) (local.get $t))
                (local.set $t (local.get $y))
                (br_if $done (ref.is_null (struct.get $node $right (local.get $t))))))
            ;; link left
            (struct.set $node $right (local.get $l) (local.get $t))
            (local.set $l (local.get $t))
            (local.set $t (struct.get $node $right (local.get $t)))
            (br $loop)))))
    ;; assemble
    (struct.set $node $right (local.get $l) (struct.get $node $left (local.get $t)))
    (struct.set $node $left (local.get $r) (struct.get $node $right (local.get $t)))
    (struct.set $node $left (local.get $t) (struct.get $node $right (local.get $dummy)))
    (struct.set $node $right (local.get $t) (struct.get $node $left (local.get $dummy)))
    (global.set $root (local.get $t)))
  ;; Inserts $key; 0 if it was there already.
  (func $insert (param $key i32) (result i32) (local $n (ref $node)) (local $root (ref null $node))
    (if (ref.is_null (global.get $root))
      (then (global.set $root (struct.new $node (local.get $key) (call $payload (local.get $key))
                                (ref.null $node) (ref.null $node)))
            (return (i32.const 1))))
    (call $splay (local.get $key))
    (local.set $root (global.get $root))
    (if (i32.eq (struct.get $node $key (local.get $root)) (local.get $key))
      (then (return (i32.const 0))))
    (local.set $n (struct.new $node (local.get $key) (call $payload (local.get $key))
                    (ref.null $node) (ref.null $node)))
    (if (i32.gt_s (local.get $key) (struct.get $node $key (local.get $root)))
      (then
        (struct.set $node $left (local.get $n) (local.get $root))
        (struct.set $node $right (local.get $n) (struct.get $node $right (local.get $root)))
        (struct.set $node $right (local.get $root) (ref.null $node)))
      (else
        (struct.set $node $right (local.get $n) (local.get $root))
        (struct.set $node $left (local.get $n) (struct.get $node $left (local.get $root)))
        (struct.set $node $left (local.get $root) (ref.null $node))))
    (global.set $root (local.get $n))
    (i32.const 1))
  ;; Removes the root after splaying $key, if the key is there.
  (func $remove (param $key i32) (local $root (ref null $node)) (local $right (ref null $node))
    (call $splay (local.get $key))
    (local.set $root (global.get $root))
    (if (i32.ne (struct.get $node $key (local.get $root)) (local.get $key)) (then (return)))
    (if (ref.is_null (struct.get $node $left (local.get $root)))
      (then (global.set $root (struct.get $node $right (local.get $root))))
      (else
        (local.set $right (struct.get $node $right (local.get $root)))
        (global.set $root (struct.get $node $left (local.get $root)))
        (call $splay (local.get $key))
        (struct.set $node $right (ref.as_non_null (global.get $root)) (local.get $right)))))
  ;; The smallest key greater than $key, or $key if none (after a splay around it).
  (func $next_key (param $key i32) (result i32) (local $n (ref null $node))
    (call $splay (local.get $key))
    (local.set $n (struct.get $node $right (global.get $root)))
    (if (ref.is_null (local.get $n)) (then (return (local.get $key))))
    (block $done
      (loop $l
        (br_if $done (ref.is_null (struct.get $node $left (local.get $n))))
        (local.set $n (struct.get $node $left (local.get $n)))
        (br $l)))
    (struct.get $node $key (local.get $n)))
  ;; Counts the nodes and checks the payloads; returns the count (or -1 on a bad payload).
  (func $count (param $n (ref null $node)) (result i32)
    (local $d (ref $data))
    (if (ref.is_null (local.get $n)) (then (return (i32.const 0))))
    (local.set $d (ref.as_non_null (struct.get $node $value (local.get $n))))
    (if (i32.ne (array.get $payload (struct.get $data $array (local.get $d)) (i32.const 0))
                (struct.get $node $key (local.get $n)))
      (then (return (i32.const -1000000))))
    (i32.add (i32.const 1)
      (i32.add (call $count (struct.get $node $left (local.get $n)))
               (call $count (struct.get $node $right (local.get $n))))))
  ;; Fills the tree with $size keys, then $steps times inserts a new key and removes the
  ;; one after it (or itself, if it is the largest): the size stays $size.
  (func (export "run") (param $size i32) (param $steps i32) (result i32) (local $k i32)
    (loop $fill
      (local.set $size (i32.sub (local.get $size) (call $insert (call $rand))))
      (br_if $fill (local.get $size)))
    (loop $churn
      (local.set $k (call $rand))
      (if (call $insert (local.get $k))
        (then (call $remove (call $next_key (local.get $k)))))
      (br_if $churn (local.tee $steps (i32.sub (local.get $steps) (i32.const 1)))))
    (call $count (global.get $root)))
)
(assert_return (invoke "run" (i32.const 8000) (i32.const 400000)) (i32.const 8000))
